"""Normalisation of single values: the canonical form of e-mail addresses and phones.

These functions are the shared building blocks of mapping transforms, validation,
cleansing and duplicate detection; they are pure and cached, so calling them once per
row of a large import stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import phonenumbers

# Format characters (Unicode category Cf) that turn up in pasted CRM data: zero-width
# spaces and joiners, direction marks, the byte-order mark, soft hyphens.
_INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)
# C0/C1 controls other than tab and newlines, which cleansing treats as whitespace.
_CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
_CONTROLS += "".join(chr(c) for c in range(0x7F, 0xA0))
# Unicode spaces that look like a plain space but break equality and splitting.
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u202f\u205f\u3000"

_STRIP_TABLE = str.maketrans(
    {**dict.fromkeys(_INVISIBLE + _CONTROLS), **dict.fromkeys(_SPACES, " ")}
)

# Also evaluated by polars (Rust regex) in the batch path: keep it to syntax both share.
EMAIL_PATTERN = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
MAX_EMAIL = 254
MAX_LOCAL = 64
_MIN_PHONE_DIGITS = 3
_MAX_PHONE_CHARS = 64
_CACHE_SIZE = 1 << 18


def strip_invisible(value: str) -> str:
    """Remove invisible format and control characters and turn odd spaces into spaces."""
    if value.isascii() and value.isprintable():
        return value
    return value.translate(_STRIP_TABLE)


def is_email(value: str) -> bool:
    """Whether an already normalised string is a syntactically valid e-mail address."""
    if len(value) > MAX_EMAIL or _EMAIL_RE.fullmatch(value) is None:
        return False
    return len(value.partition("@")[0]) <= MAX_LOCAL


@lru_cache(maxsize=_CACHE_SIZE)
def _normalize_email(value: str) -> str | None:
    cleaned = strip_invisible(value).strip().lower()
    if cleaned.startswith("mailto:"):
        cleaned = cleaned[len("mailto:") :].strip()
    return cleaned if cleaned and is_email(cleaned) else None


# Normal forms this module has answered with (or was told of: ``remember_emails``): an
# address that is its own answer, found again without parsing it. Emptied when full.
_NORMAL_EMAILS: dict[str, None] = {}


def normalize_email(value: str | None) -> str | None:
    """Trimmed, lower-case e-mail address; None when empty or not an e-mail address."""
    if value is None:
        return None
    if value in _NORMAL_EMAILS:
        return value
    answer = _normalize_email(value)
    if answer is not None:
        if len(_NORMAL_EMAILS) >= _CACHE_SIZE:
            _NORMAL_EMAILS.clear()
        _NORMAL_EMAILS[answer] = None
    return answer


def normal_emails(values: Iterable[Any]) -> list[str]:
    """The ``values`` known here to be ``normalize_email`` answers (their own normal form),
    without parsing any: to hand to another process's ``remember_emails``."""
    known = _NORMAL_EMAILS
    return [v for v in values if v.__class__ is str and v in known]


def remember_emails(values: Iterable[str]) -> None:
    """Take ``values`` as e-mail addresses ``normalize_email`` answered with (in another
    process, say): normalising one again gives it back without parsing it."""
    _remember(_NORMAL_EMAILS, values)


def _remember(known: dict[str, None], values: Iterable[str]) -> None:
    """Add ``values`` to a cache of normal forms, emptied first when it would overflow."""
    new = dict.fromkeys(values)
    if len(known) + len(new) > _CACHE_SIZE:
        known.clear()
    known.update(new)


# Digits with the usual separators, optionally after one leading "+": for these,
# phonenumbers' answer depends only on the digits (and on the region when there is no
# "+"), so differently written forms of one number share one parse.
_PLAIN_PHONE = re.compile(r"\+?[0-9][0-9 ().\-]*")
_SEPARATORS = str.maketrans("", "", " ().-")
_UNKNOWN = object()
# E.164 strings this module has answered with: parsing one gives itself back.
_KNOWN_E164: dict[str, None] = {}


# (value, region) -> answer: what normalize_phone has answered, or normalize_phones
# (crmsync.quality.batch_phone) decided for it in bulk. Emptied when full.
_PHONE_ANSWERS: dict[tuple[str, str], str | None] = {}


def remember_e164(values: Iterable[str]) -> None:
    """Take ``values`` as E.164 answers ``normalize_phone`` gave (in another process, say):
    parsing one again gives it back without phonenumbers."""
    _remember(_KNOWN_E164, values)


def known_e164(value: str) -> bool:
    """Whether ``value`` is an E.164 answer of this module's: its own normal form."""
    return value in _KNOWN_E164


def known_e164s(values: set[str]) -> set[str]:
    """The ``values`` that ``known_e164`` holds, found all at once."""
    return values & _KNOWN_E164.keys()


def remember_phone(value: str, region: str, answer: str | None) -> None:
    """Record ``normalize_phone(value, region)``'s answer, worked out by a batch path."""
    if len(_PHONE_ANSWERS) >= _CACHE_SIZE:
        _PHONE_ANSWERS.clear()
    _PHONE_ANSWERS[(value, region.upper())] = answer


def remember_phones(answers: Mapping[str, str | None], region: str) -> None:
    """``remember_phone`` of each value -> answer of ``answers``, all at once."""
    region = region.upper()
    if len(_PHONE_ANSWERS) + len(answers) > _CACHE_SIZE:
        _PHONE_ANSWERS.clear()
    _PHONE_ANSWERS.update({(value, region): answer for value, answer in answers.items()})


def _normalize_phone(value: str, region: str) -> str | None:
    cleaned = strip_invisible(value).strip()
    if len(cleaned) > _MAX_PHONE_CHARS:
        return None
    if _PLAIN_PHONE.fullmatch(cleaned):
        digits = cleaned.translate(_SEPARATORS)
        if digits[0] == "+":  # the number carries its country: the region plays no part
            return digits if digits in _KNOWN_E164 else _parse_phone(digits, "")
        return _parse_phone(digits, region)
    return _parse_phone(cleaned, region)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_phone(cleaned: str, region: str) -> str | None:
    """phonenumbers' E.164 form of a valid number; the slow path every answer comes from."""
    if sum(ch.isdigit() for ch in cleaned) < _MIN_PHONE_DIGITS:
        return None
    try:
        number = phonenumbers.parse(cleaned, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(_KNOWN_E164) >= _CACHE_SIZE:
        _KNOWN_E164.clear()
    _KNOWN_E164[e164] = None
    return e164


def normalize_phone(value: str | None, region: str = "US") -> str | None:
    """Phone number in E.164 (``+14155550123``); None when empty or not a valid number.

    ``region`` is the ISO 3166 country assumed for numbers written without a country
    code; numbers starting with ``+`` keep their own country.
    """
    if value is None:
        return None
    key = (value, region.upper())
    answer = _PHONE_ANSWERS.get(key, _UNKNOWN)
    if answer is _UNKNOWN:
        answer = _normalize_phone(value, key[1])
        remember_phone(value, key[1], answer)
    return answer  # type: ignore[return-value]
