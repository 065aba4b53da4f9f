"""What a preview tells the user to change before data is lost without an error.

Two losses make no failing row, so the per-column report alone does not show them:

* **Phones under the wrong region.** A column of phone numbers written without a
  country code (``01 42 68 53 00``) that mostly fails under the job's region is left
  unmapped (or fails row by row). Each number's own region is unknowable, so the
  regions tried are the ones the file gives evidence for — the values of a Country
  column, then the countries of the numbers in the column written with ``+`` — then a
  fixed list of common ones. The region under which most sample phones parse is
  proposed (evidence first on a tie); others that parse as many are named too.
* **Columns dropped.** A non-empty column mapped to nothing (a second phone or e-mail
  of a Pipedrive export: ``Phone - Home`` beside ``Phone - Work``) is not imported
  unless ``keep_unmapped`` keeps it as ``custom_fields.<header>``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Final

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

from crmsync.imports.rowmap import with_unmapped
from crmsync.mapping.schema import FieldType, field_type
from crmsync.mapping.suggest import Suggestion
from crmsync.quality.normalize import normalize_phone

# Share of a column's sample phones that must fail under the job's region (and parse
# under another) before a region is proposed; the suggestion check's own threshold.
MIN_FIT: Final = 0.5
# Tried after the file's own evidence: the regions CRM exports most often come from.
COMMON_REGIONS: Final = (
    "US", "GB", "CA", "AU", "IE", "NZ", "FR", "DE", "ES", "IT", "NL", "BE", "CH", "AT",
    "PT", "SE", "NO", "DK", "FI", "PL", "MX", "BR", "AR", "CO", "IN", "ZA", "AE", "SG",
)  # fmt: skip
MAX_ALSO: Final = 3
# Names of countries looked up in a Country column, in these languages.
_NAME_LANGUAGES: Final = ("en", "fr", "de", "es", "it", "pt", "nl")


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in folded if ch.isalnum())


@cache
def _country_names() -> dict[str, str]:
    """Folded country name (in a few languages) or ISO code -> region."""
    names: dict[str, str] = {}
    for region, by_language in LOCALE_DATA.items():
        if region not in phonenumbers.SUPPORTED_REGIONS:
            continue
        names[_key(region)] = region
        for language in _NAME_LANGUAGES:
            name = by_language.get(language, "")
            if name.startswith("*"):  # the same name as another language's
                name = by_language.get(name[1:], "")
            if name:
                names.setdefault(_key(name), region)
    names.update({"usa": "US", "uk": "GB", "unitedstatesofamerica": "US"})
    return names


def region_name(region: str) -> str:
    """``FR`` -> ``France`` (the code itself when phonenumbers has no English name)."""
    names = LOCALE_DATA.get(region, {})
    name = str(names.get("en") or region)
    return str(names.get(name[1:]) or region) if name.startswith("*") else name


def _evidence(phones: Sequence[Any], countries: Iterable[Any]) -> list[str]:
    """Regions the file points to, most common first: Country values, then +CC phones."""
    names = _country_names()
    found: Counter[str] = Counter()
    for value in countries:
        region = names.get(_key(str(value)))
        if region:
            found[region] += 1
    dialled: Counter[str] = Counter()
    for value in phones:
        text = str(value).strip()
        if text.startswith("+") and (e164 := normalize_phone(text, "US")):
            dialled[phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""] += 1
    return [r for r, _n in [*found.most_common(), *dialled.most_common()] if r]


def _parsed(values: Sequence[Any], region: str) -> int:
    return sum(normalize_phone(str(v), region) is not None for v in values)


def region_hint(
    header: str, values: Sequence[Any], region: str, countries: Iterable[Any] = ()
) -> dict[str, Any] | None:
    """The region to set when ``values`` mostly fail under ``region``; None otherwise."""
    if not values:
        return None
    total = len(values)
    now = _parsed(values, region)
    if now / total >= MIN_FIT:
        return None
    tried = dict.fromkeys([*_evidence(values, countries), *COMMON_REGIONS])
    tried.pop(region, None)
    counts = [(r, _parsed(values, r)) for r in tried]
    ranked = sorted(counts, key=lambda rc: -rc[1])  # stable: evidence first on a tie
    best, parsed = ranked[0] if ranked else (region, 0)
    if parsed / total < MIN_FIT or parsed <= now:
        return None
    tied = [r for r, n in ranked[1:] if n == parsed][:MAX_ALSO]
    others = f"; as many parse under {', '.join(tied)}" if tied else ""
    return {
        "kind": "region",
        "column": header,
        "region": best,
        "parsed": parsed,
        "of": total,
        "region_now": region,
        "parsed_now": now,
        "also": tied,
        "fix": {"region": best},
        "message": (
            f"{header}: set region {best}: {parsed} of {total} sample phones parse as "
            f"numbers of {region_name(best)} ({now} under {region}){others}."
        ),
    }


def phone_columns(
    object_type: str, found: Sequence[Suggestion], used: Mapping[str, str | None]
) -> list[str]:
    """Columns mapped to a phone field, or whose header the suggestions read as one."""
    out = []
    for s in found:
        target = used.get(s.source) or s.target
        if target and field_type(object_type, target) is FieldType.PHONE:
            out.append(s.source)
    return out


def region_hints(
    object_type: str,
    region: str,
    found: Sequence[Suggestion],
    used: Mapping[str, str | None],
    columns: Mapping[str, Sequence[Any]],
) -> list[dict[str, Any]]:
    """A region hint per phone column of the sample that fails under ``region``."""
    countries = [
        v
        for s in found
        if (used.get(s.source) or s.target) == "country"
        for v in columns.get(s.source, ())
    ]
    hints = (
        region_hint(h, columns.get(h, []), region, countries)
        for h in phone_columns(object_type, found, used)
    )
    return [h for h in hints if h is not None]


def dropped_hint(
    used: Mapping[str, str | None], headers: Sequence[str], filled: Mapping[str, int], rows: int
) -> dict[str, Any] | None:
    """The non-empty columns an import with ``used`` would not keep; None when none."""
    kept_as = with_unmapped(used, headers)
    dropped = [
        {"header": h, "filled": filled[h], "keep_as": kept_as[h]}
        for h in headers
        if not used.get(h) and filled.get(h)
    ]
    if not dropped:
        return None
    listed = ", ".join(f"{d['header']} ({d['filled']} of {rows} sample rows)" for d in dropped)
    return {
        "kind": "dropped_columns",
        "columns": dropped,
        "count": len(dropped),
        "fix": {"keep_unmapped": True},
        "message": (
            f"not imported, {len(dropped)} column{'s' if len(dropped) > 1 else ''} with "
            f"values: {listed}; map them to a "
            "field, or set keep_unmapped to keep each as custom_fields.<column> "
            f"({', '.join(str(d['keep_as']) for d in dropped)})."
        ),
    }
