"""Vectorised phone normalisation for the common case, identical to ``normalize_phone``.

Parsing with phonenumbers costs tens of microseconds per number. For the shape most
imports contain - North American numbers written with digits, spaces, dots, dashes and
brackets, with or without ``+1`` - parsing is fully determined (country code 1, the
national number is the last ten digits) and validity is decided by the United States
number patterns of phonenumbers' own metadata, evaluated here with polars regexes over
a whole column. Numbers outside that case, or that the US patterns do not accept (they
may still be valid Canadian or Caribbean numbers), are left for ``normalize_phone``.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import polars as pl
from phonenumbers import PhoneMetadata

_SHAPE: Final = r"^ *\+?[0-9 ().\-]* *$"
_MAX_CHARS: Final = 64
_NATIONAL_DIGITS: Final = 10
_DESCS: Final = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip


def _desc_expr(national: pl.Expr, desc: object) -> pl.Expr | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if desc is None or pattern is None:
        return None
    lengths = tuple(getattr(desc, "possible_length", ()) or ())
    matches = national.str.contains(f"^(?:{pattern})$")
    if lengths and _NATIONAL_DIGITS not in lengths:
        return pl.lit(False)
    return matches


@cache
def _us_metadata() -> object:
    metadata = PhoneMetadata.metadata_for_region("US", None)
    if metadata is None:  # pragma: no cover - phonenumbers always ships US
        raise RuntimeError("phonenumbers has no US metadata")
    return metadata


def _valid_us(national: pl.Expr) -> pl.Expr:
    metadata = _us_metadata()
    general = _desc_expr(national, getattr(metadata, "general_desc", None))
    found = (_desc_expr(national, getattr(metadata, d, None)) for d in _DESCS)
    kinds = [e for e in found if e is not None]
    if general is None or not kinds:
        return pl.lit(False)
    return general & pl.any_horizontal(kinds)


def fast_phones(values: pl.Series, region: str) -> pl.Series:
    """E.164 for values decided here; null for values ``normalize_phone`` must decide.

    ``values`` are plain strings (no invisible characters) as ``normalize_phone`` sees
    them; every non-null result equals ``normalize_phone(value, region)``.
    """
    nanpa_default = region.upper() == "US"
    frame = pl.DataFrame({"v": values.cast(pl.Utf8)})
    v = pl.col("v")
    digits = v.str.replace_all(r"[^0-9]", "")
    plus = v.str.strip_chars(" ").str.starts_with("+")
    shaped = v.str.contains(_SHAPE) & (v.str.strip_chars(" ").str.len_chars() <= _MAX_CHARS)
    ten = (digits.str.len_bytes() == _NATIONAL_DIGITS) & digits.str.contains(r"^[2-9]")
    eleven = (digits.str.len_bytes() == _NATIONAL_DIGITS + 1) & digits.str.contains(r"^1[2-9]")
    national = (
        pl.when(shaped & ten & ~plus & pl.lit(nanpa_default))
        .then(digits)
        .when(shaped & eleven & (plus | pl.lit(nanpa_default)))
        .then(digits.str.slice(1))
        .otherwise(None)
    )
    out = frame.select(national.alias("n")).select(
        pl.when(_valid_us(pl.col("n"))).then(pl.lit("+1") + pl.col("n")).otherwise(None)
    )
    return out.to_series().alias(values.name)
