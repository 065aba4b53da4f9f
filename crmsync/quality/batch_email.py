"""Vectorised e-mail normalisation, identical to ``normalize_email`` on plain ASCII.

For printable ASCII text ``normalize_email`` only trims spaces, lower-cases, drops a
``mailto:`` prefix and checks the pattern and lengths - all of which polars does over a
whole column at once. Other text (accents, invisible characters) is left to
``normalize_email``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from crmsync.quality.normalize import EMAIL_PATTERN, MAX_EMAIL, MAX_LOCAL

_PRINTABLE_ASCII: Final = r"^[\x20-\x7e]*$"
_MAILTO: Final = "mailto:"


def printable_ascii(expr: pl.Expr) -> pl.Expr:
    """Whether each value is printable ASCII, where text steps are plain string ops."""
    return expr.str.contains(_PRINTABLE_ASCII)


def fast_emails(values: pl.Series) -> pl.DataFrame:
    """Columns ``decided`` (bool) and ``email`` (normalised, or null when invalid).

    Where ``decided`` is true, ``email`` equals ``normalize_email(value)``.
    """
    v = pl.col("v")
    lowered = v.str.strip_chars(" ").str.to_lowercase()
    cleaned = (
        pl.when(lowered.str.starts_with(_MAILTO))
        .then(lowered.str.slice(len(_MAILTO)).str.strip_chars(" "))
        .otherwise(lowered)
    )
    local = cleaned.str.split_exact("@", 1).struct.field("field_0")
    valid = (
        (cleaned.str.len_bytes() > 0)
        & (cleaned.str.len_bytes() <= MAX_EMAIL)
        & cleaned.str.contains(f"^(?:{EMAIL_PATTERN})$")
        & (local.str.len_bytes() <= MAX_LOCAL)
    )
    frame = pl.DataFrame({"v": values.cast(pl.Utf8)})
    return frame.select(
        printable_ascii(v).fill_null(False).alias("decided"),
        pl.when(valid).then(cleaned).otherwise(None).alias("email"),
    )
