"""One contact prepared in plain Python: check() cannot afford a frame per call.

It must give exactly what `prepared.prepare` gives for the same record; the tests hold
the two side by side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jellyfish

from crmsync.dedup.engine.nicknames import canonical_first_name
from crmsync.dedup.engine.prepared import _COMPANY_SUFFIX, FREE_MAIL, NANP_PHONE, PHONE_FORMATTING
from crmsync.quality.normalize import normalize_email, normalize_phone

_SUFFIX = re.compile(_COMPANY_SUFFIX)
_NANP = re.compile(NANP_PHONE)
_FORMATTING = re.compile(PHONE_FORMATTING)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _keep(value: str, allowed: Any) -> str:
    return "".join(ch for ch in value if allowed(ch))


def _alnum(ch: str) -> bool:
    return ch.isalpha() or ch.isdecimal()


def _word(ch: str) -> bool:
    return ch.isalpha() or ch.isdecimal() or ch == " "


def _phone(raw: str, region: str) -> str:
    digits = _FORMATTING.sub("", raw)
    if region.upper() in ("US", "CA") and _NANP.match(digits):
        return "+1" + digits[-10:]
    return (normalize_phone(raw, region) or "") if raw else ""


def prepare_one(record: Mapping[str, Any], region: str = "US") -> dict[str, Any]:
    """The prepared columns of one record, as `prepare` computes them."""
    first = _keep(_text(record.get("first_name")).lower(), str.isalpha)
    last = _keep(_text(record.get("last_name")).lower(), str.isalpha)
    email = normalize_email(_text(record.get("email"))) or ""
    dob = _keep(_text(record.get("dob")), str.isdecimal)
    dob = dob if len(dob) == 8 else ""
    company = _keep(_text(record.get("company")).lower(), _word)
    company = " ".join(_SUFFIX.sub("", company).split())
    domain = email.partition("@")[2]
    canon = canonical_first_name(first)
    return {
        "id": _text(record.get("id")),
        "first": first,
        "last": last,
        "first_canon": canon,
        "email": email,
        "email_digits": _keep(email.partition("@")[0], str.isdecimal),
        "company": company,
        "work_domain": "" if domain in FREE_MAIL else domain,
        "phone": _phone(_text(record.get("phone")), region),
        "dob": dob,
        "dob_swapped": dob[:4] + dob[6:8] + dob[4:6],
        "dob_days": float(int(dob[:4]) * 372 + int(dob[4:6]) * 31 + int(dob[6:8]))
        if dob
        else float("nan"),
        "city": _keep(_text(record.get("city")).lower(), _word),
        "postcode": "".join(_text(record.get("postcode")).lower().split()),
        "address": _keep(_text(record.get("address")).lower(), _alnum),
        "last_code": jellyfish.soundex(last) if last else "",
        "first_code": jellyfish.soundex(canon) if canon else "",
        "first_initial": first[:1],
        "first_short": first if len(first) == 1 else "",
        "namesakes": 1.0,  # the record alone; an index counts its namesakes
    }
