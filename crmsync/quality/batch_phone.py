"""Vectorised phone normalisation for the common cases, identical to ``normalize_phone``.

Parsing with phonenumbers costs tens of microseconds per number. For the shapes most
imports contain, parsing is fully determined and cheap to do over a whole column:

* international numbers written ``+<country code> <digits>`` with spaces, dots, dashes
  or brackets, whose national part has no national prefix (no trunk ``0``);
* with a United States default region, ten-digit numbers and ``1`` + ten digits.

Validity is then decided with the number patterns of phonenumbers' own metadata for the
country's main region, evaluated as polars regexes. A number this path accepts is one
phonenumbers accepts, with the same E.164 form; everything else (other shapes, numbers
of secondary regions such as Canada or Jersey, invalid numbers) is left to
``normalize_phone``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Final

import polars as pl
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from crmsync.quality.normalize import (
    known_e164s,
    normalize_phone,
    remember_e164,
    remember_phones,
)

_SHAPE: Final = r"^ *\+?[0-9 ().\-]* *$"
_MAX_CHARS: Final = 64
_MIN_NATIONAL: Final = 2
_MAX_NATIONAL: Final = 17
_NANPA_DIGITS: Final = 10
_DESCS: Final = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip
_CODES: Final = {
    size: sorted(str(cc) for cc in COUNTRY_CODE_TO_REGION_CODE if len(str(cc)) == size)
    for size in (1, 2, 3)
}


def _rust_ok(pattern: str) -> bool:
    """Whether polars (Rust regex) accepts ``pattern``; others stay on the slow path."""
    try:
        pl.Series(["1"]).str.contains(pattern)
    except pl.exceptions.ComputeError:
        return False
    return True


def _desc(desc: Any) -> tuple[tuple[int, ...], str] | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if desc is None or pattern is None or not _rust_ok(f"^(?:{pattern})$"):
        return None
    return tuple(getattr(desc, "possible_length", ()) or ()), f"^(?:{pattern})$"


@cache
def _country(code: str) -> tuple[Any, ...] | None:
    """(prefix pattern, general desc, type descs) of a country's main region, or None."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(int(code), ())
    if not regions or regions[0] == "001":
        return None
    metadata = PhoneMetadata.metadata_for_region(regions[0], None)
    if metadata is None or metadata.leading_digits is not None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and not _rust_ok(f"^(?:{prefix})"):
        return None
    general = _desc(metadata.general_desc)
    kinds = [d for d in (_desc(getattr(metadata, name, None)) for name in _DESCS) if d]
    if general is None or not kinds:
        return None
    return (f"^(?:{prefix})" if prefix else None), general, tuple(kinds)


def _matches(national: pl.Expr, desc: tuple[tuple[int, ...], str]) -> pl.Expr:
    lengths, pattern = desc
    matched = national.str.contains(pattern)
    return national.str.len_bytes().is_in(list(lengths)) & matched if lengths else matched


def _valid(national: pl.Expr, code: str) -> pl.Expr:
    country = _country(code)
    if country is None:
        return pl.lit(False)
    prefix, general, kinds = country
    valid = _matches(national, general) & pl.any_horizontal([_matches(national, k) for k in kinds])
    # a national prefix would be stripped by the parser: leave those numbers to it
    return valid & ~national.str.contains(prefix) if prefix else valid


def _code(digits: pl.Expr) -> pl.Expr:
    """The country code the parser reads first: the shortest prefix that is one."""
    one, two, three = (digits.str.slice(0, size) for size in (1, 2, 3))
    return (
        pl.when(one.is_in(_CODES[1]))
        .then(one)
        .when(two.is_in(_CODES[2]))
        .then(two)
        .when(three.is_in(_CODES[3]))
        .then(three)
    )


def fast_phones(values: pl.Series, region: str) -> pl.Series:
    """E.164 for values decided here; null for values ``normalize_phone`` must decide.

    ``values`` are plain strings (no invisible characters) as ``normalize_phone`` sees
    them; every non-null result equals ``normalize_phone(value, region)``.
    """
    us = region.upper() == "US"
    v, digits = pl.col("v"), pl.col("digits")
    frame = pl.DataFrame({"v": values.cast(pl.Utf8)}).with_columns(
        v.str.replace_all(r"[^0-9]", "").alias("digits"),
        v.str.strip_chars(" ").alias("stripped"),
    )
    stripped = pl.col("stripped")
    plus = stripped.str.starts_with("+")
    size = digits.str.len_bytes()
    nanpa_ten = pl.lit(us) & ~plus & (size == _NANPA_DIGITS) & digits.str.contains(r"^[2-9]")
    nanpa_eleven = pl.lit(us) & ~plus & (size == _NANPA_DIGITS + 1) & digits.str.contains("^1")
    frame = frame.select(
        digits,
        (v.str.contains(_SHAPE) & (stripped.str.len_chars() <= _MAX_CHARS)).alias("shaped"),
        nanpa_ten.alias("ten"),
        pl.when(nanpa_ten | nanpa_eleven).then(pl.lit("1")).when(plus).then(_code(digits))
        .alias("code"),
    ).with_columns(
        pl.when(pl.col("ten")).then(digits).otherwise(digits.str.slice(pl.col("code").str.len_bytes()))
        .alias("national"),
    )  # fmt: skip
    national = pl.col("national")
    candidate = (
        pl.col("shaped")
        & pl.col("code").is_not_null()
        & national.str.len_bytes().is_between(_MIN_NATIONAL, _MAX_NATIONAL)
        & ~national.str.starts_with("0")
    )
    frame = frame.with_row_index("i").filter(candidate.fill_null(False))
    result = pl.Series(values.name, [None] * len(values), dtype=pl.Utf8)
    # each country's patterns run on that country's numbers only
    for found, group in frame.group_by("code"):
        code_text = str(found[0])
        decided = group.select(
            pl.col("i"),
            pl.when(_valid(national, code_text)).then(pl.lit("+" + code_text) + national),
        ).drop_nulls()
        if decided.height:
            result = result.scatter(decided["i"], decided.to_series(1))
    return result


# Below this many values, parsing one by one costs less than building the frames.
_BATCH_FROM: Final = 64


def normalize_phones(values: Iterable[str], region: str) -> dict[str, str | None]:
    """``normalize_phone(value, region)`` of each distinct value, decided in bulk where it can.

    Printable-ASCII values go through ``fast_phones`` together; the rest, and the values
    it leaves undecided, are parsed one by one, so every answer is the single-value one.
    The answers are remembered, so ``normalize_phone`` gives them again without parsing.
    """
    distinct = set(values)
    # E.164 answers already given are their own (a record's phone, parsed on import)
    answers: dict[str, str | None] = {v: v for v in known_e164s(distinct)}
    if answers:
        distinct -= answers.keys()
    if len(distinct) >= _BATCH_FROM:
        plain = [v for v in distinct if v.isascii() and v.isprintable()]
        decided = fast_phones(pl.Series("v", plain, dtype=pl.Utf8), region)
        fast = {v: e164 for v, e164 in zip(plain, decided.to_list(), strict=True) if e164}
        remember_phones(fast, region)  # later single calls for these answer at once
        remember_e164(fast.values())
        answers.update(fast)
    for value in distinct - answers.keys():
        answers[value] = normalize_phone(value, region)
    return answers
