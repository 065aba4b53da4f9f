"""Contacts turned into the normalised columns that blocking and scoring read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish
import numpy as np
import polars as pl

from crmsync.dedup.engine.nicknames import canonical_first_name
from crmsync.quality.normalize import (
    _EMAIL_RE,
    MAX_EMAIL,
    MAX_LOCAL,
    normalize_email,
    normalize_phone,
)

# Input fields read from a contact; anything else is ignored.
INPUT_FIELDS = (
    "id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "company",
    "city",
    "dob",
    "postcode",
    "address",
)

# Prepared text columns; "" means missing.
TEXT_COLUMNS = (
    "first",
    "last",
    "first_canon",
    "email",
    "email_digits",
    "company",
    "work_domain",
    "phone",
    "dob",
    "dob_swapped",
    "dob_days",
    "namesakes",
    "city",
    "postcode",
    "address",
    "last_code",
    "first_code",
    "first_initial",
    "first_short",
)

# Mail providers whose domain says nothing about the employer.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.com",
        "zoho.com",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)

# what people put between the digits of a phone number
PHONE_FORMATTING = r"[\s().\-/]"
# a North-American number, with or without its country code
NANP_PHONE = r"^(\+?1)?[2-9]\d{2}[2-9]\d{6}$"

_COMPANY_SUFFIX = r"\b(inc|llc|ltd|limited|corp|corporation|co|company|gmbh|plc|lp|llp|sa)\b"


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Utf8).fill_null("").str.strip_chars()


def _map_unique(series: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    """Apply `fn` once per distinct value: contact lists repeat names, cities, domains."""
    uniques = series.unique()
    mapped = [(fn(v) or "") if v else "" for v in uniques.to_list()]
    return series.replace_strict(uniques, pl.Series(mapped, dtype=pl.Utf8), return_dtype=pl.Utf8)


def _emails(raw: pl.Series) -> pl.Series:
    """Emails as `normalize_email` gives them.

    Plain ASCII values are lower-cased and checked with the same pattern in one
    vectorised pass; only values with other characters go through the function.
    """
    cleaned = raw.str.strip_chars().str.to_lowercase().str.strip_prefix("mailto:").str.strip_chars()
    plain = raw.str.contains(r"^[\x20-\x7e]*$")
    local = cleaned.str.split_exact("@", 1).struct.field("field_0").str.len_chars()
    valid = (
        cleaned.str.contains(r"^" + _EMAIL_RE.pattern + r"$")
        & (cleaned.str.len_chars() <= MAX_EMAIL)
        & (local <= MAX_LOCAL)
    )
    fast = pl.select(pl.when(pl.lit(valid)).then(pl.lit(cleaned)).otherwise(pl.lit(""))).to_series()
    others = ~plain & (raw != "")
    if not others.any():
        return fast.alias("email")
    slow = _map_unique(raw.filter(others), normalize_email)
    return fast.scatter(others.arg_true(), slow).alias("email")


def _phones(raw: pl.Series, region: str) -> pl.Series:
    """Phones in E.164.

    North-American numbers written in the usual shapes are converted directly from
    their digits (phonenumbers takes ~0.1 ms a number, too slow for a million); every
    other value goes through `normalize_phone`. The direct path keeps a well-formed
    number the library would call unassigned, which only ever matches the same digits.
    """
    digits = raw.str.replace_all(PHONE_FORMATTING, "")
    nanp = region.upper() in ("US", "CA")
    ten = digits.str.contains(NANP_PHONE) if nanp else digits == "\0"
    direct = ("+1" + digits.str.slice(-10)).alias("phone")
    others = raw.filter(~ten & (raw != ""))
    slow = _map_unique(others, lambda v: normalize_phone(v, region)) if others.len() else others
    out = pl.Series("phone", [""] * raw.len(), dtype=pl.Utf8)
    out = out.scatter((~ten & (raw != "")).arg_true(), slow)
    return pl.select(pl.when(pl.lit(ten)).then(pl.lit(direct)).otherwise(pl.lit(out))).to_series()


def _phonetic(value: str) -> str:
    return jellyfish.soundex(value) if value else ""


@dataclass(frozen=True)
class Prepared:
    """Records already through ``prepare`` (or a row subset of such), which the dedup
    functions take as they are instead of preparing them again. Every prepared column
    depends on its own row alone except ``namesakes``, which is counted again."""

    frame: pl.DataFrame


Records = Iterable[Mapping[str, Any]] | pl.DataFrame | Prepared


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def to_frame(records: Iterable[Mapping[str, Any]] | pl.DataFrame) -> pl.DataFrame:
    """Raw contacts (dicts or a frame) as a frame with every input field, as text."""
    if isinstance(records, pl.DataFrame):
        frame = records
    else:
        rows: Sequence[Mapping[str, Any]] = (
            records if isinstance(records, Sequence) else list(records)
        )
        schema = dict.fromkeys(INPUT_FIELDS, pl.Utf8)
        try:
            frame = pl.from_dicts(rows, schema=schema, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            # values that are not text (dates, numbers): convert them one by one
            text = {f: [_as_text(r.get(f)) for r in rows] for f in INPUT_FIELDS}
            frame = pl.DataFrame(text, schema=schema)
    missing = [f for f in INPUT_FIELDS if f not in frame.columns]
    frame = frame.with_columns([pl.lit(None, dtype=pl.Utf8).alias(f) for f in missing])
    return frame.select([_text(pl.col(f)).alias(f) for f in INPUT_FIELDS])


def prepare(records: Records, region: str = "US") -> pl.DataFrame:
    """Normalised columns of `records`, one row per record, in input order."""
    if isinstance(records, Prepared):
        return count_namesakes(records.frame)
    raw = to_frame(records)
    letters = r"[^\p{L}]"
    frame = raw.select(
        pl.col("id"),
        pl.col("first_name").str.to_lowercase().str.replace_all(letters, "").alias("first"),
        pl.col("last_name").str.to_lowercase().str.replace_all(letters, "").alias("last"),
        pl.col("email"),
        pl.col("phone"),
        pl.col("dob").str.replace_all(r"\D", "").alias("dob"),
        pl.col("city").str.to_lowercase().str.replace_all(r"[^\p{L}\d ]", "").alias("city"),
        pl.col("postcode").str.to_lowercase().str.replace_all(r"\s", "").alias("postcode"),
        # spaces dropped: "16 wilshire street" and "16 wilshirestreet" are one address
        pl.col("address").str.to_lowercase().str.replace_all(r"[^\p{L}\d]", "").alias("address"),
        pl.col("company")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\d ]", "")
        .str.replace_all(_COMPANY_SUFFIX, "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .alias("company"),
    )
    email = _emails(frame["email"])
    phone = _phones(frame["phone"], region)
    frame = frame.with_columns(
        email.alias("email"),
        phone.alias("phone"),
        pl.when(pl.col("dob").str.len_chars() == 8)
        .then(pl.col("dob"))
        .otherwise(pl.lit(""))
        .alias("dob"),
    )
    domain = frame["email"].str.split_exact("@", 1).struct.field("field_1").fill_null("")
    local = frame["email"].str.split_exact("@", 1).struct.field("field_0").fill_null("")
    frame = frame.with_columns(
        domain.alias("email_domain"),
        local.str.replace_all(r"\D", "").alias("email_digits"),
        _map_unique(frame["first"], canonical_first_name).alias("first_canon"),
        _map_unique(frame["last"], _phonetic).alias("last_code"),
        _map_unique(frame["first"], lambda v: _phonetic(canonical_first_name(v))).alias(
            "first_code"
        ),
    )
    free = pl.col("email_domain").is_in(list(FREE_MAIL))
    frame = frame.with_columns(
        # an employer's domain, not a mail provider's
        pl.when(free).then(pl.lit("")).otherwise(pl.col("email_domain")).alias("work_domain"),
        pl.when(pl.col("dob") != "")
        .then(
            pl.concat_str(
                pl.col("dob").str.slice(0, 4),
                pl.col("dob").str.slice(6, 2),
                pl.col("dob").str.slice(4, 2),
            )
        )
        .otherwise(pl.lit(""))
        .alias("dob_swapped"),
        # approximate day number: enough to tell dates a few weeks apart
        pl.when(pl.col("dob") != "")
        .then(
            pl.col("dob").str.slice(0, 4).cast(pl.Int64, strict=False) * 372
            + pl.col("dob").str.slice(4, 2).cast(pl.Int64, strict=False) * 31
            + pl.col("dob").str.slice(6, 2).cast(pl.Int64, strict=False)
        )
        .otherwise(None)
        .cast(pl.Float64)
        .fill_null(float("nan"))
        .alias("dob_days"),
        pl.col("first").str.slice(0, 1).alias("first_initial"),
        pl.when(pl.col("first").str.len_chars() == 1)
        .then(pl.col("first"))
        .otherwise(pl.lit(""))
        .alias("first_short"),
    )
    return count_namesakes(frame).select("id", *TEXT_COLUMNS)


def count_namesakes(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `namesakes`: how many of its records carry the same exact name.

    A common name is weaker evidence; records without both names count 1.
    """
    named = (pl.col("first_canon") != "") & (pl.col("last") != "")
    return frame.with_columns(
        pl.when(named)
        .then(pl.len().over(["first_canon", "last"]))
        .otherwise(1)
        .cast(pl.Float64)
        .alias("namesakes")
    )


def name_key(first_canon: str, last: str) -> str | None:
    """What `namesakes` counts by; None when either part is missing."""
    return f"{first_canon}|{last}" if first_canon and last else None


def name_keys() -> pl.Expr:
    """`name_key` of every row of a prepared frame (null where it is None)."""
    first, last = pl.col("first_canon"), pl.col("last")
    return (
        pl.when((first != "") & (last != ""))
        .then(pl.concat_str([first, last], separator="|"))
        .alias("name_key")
    )


def columns(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """The prepared frame as object arrays, the form pair gathering indexes into."""
    return {name: frame[name].to_numpy().astype(object) for name in ("id", *TEXT_COLUMNS)}
