"""Prepared columns as integer codes, so millions of pairs compare without touching strings.

Equality of two values is equality of their codes; a fuzzy similarity is computed once
per distinct pair of values (contact lists repeat the same names over and over) and
spread back to every record pair that has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process

from crmsync.dedup.engine.prepared import TEXT_COLUMNS

# every prepared text column, with the id: what scoring and explanations read
ALL_TEXT = ("id", *(c for c in TEXT_COLUMNS if c not in ("dob_days", "namesakes")))

# Below this many pairs, rapidfuzz's worker threads cost more CPU than they save wall
# time (measured: about twice the CPU per pair at 5,000 pairs, even at 100,000), and a
# batch's pairs are fewer: an import's mapping process shares the cores with its writer.
PARALLEL_FROM = 100_000


def cpdist_workers(pairs: int) -> int:
    """rapidfuzz's ``workers`` for ``pairs`` pairs: all cores only for large jobs."""
    return -1 if pairs >= PARALLEL_FROM else 1


# columns that get codes
CODED = (
    "first",
    "last",
    "first_canon",
    "email",
    "phone",
    "dob",
    "city",
    "company",
    "work_domain",
    "postcode",
    "address",
)


@dataclass(frozen=True)
class Encoded:
    """Codes (-1 for missing) and the distinct values they stand for, per column."""

    codes: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    dob_days: np.ndarray
    namesakes: np.ndarray
    # the initials of a coding that keeps them up to date itself (CodedRows)
    given_initials: dict[str, np.ndarray] | None = None

    @cached_property
    def initials(self) -> dict[str, np.ndarray]:
        """Per column, the code point of each distinct value's first character (-1: none)."""
        if self.given_initials is not None:
            return self.given_initials
        return {
            name: np.array([ord(v[0]) if v else -1 for v in values], dtype=np.int64)
            for name, values in self.values.items()
            if name in ("first", "last")
        }


def encode(frame: pl.DataFrame, names: tuple[str, ...] = CODED) -> Encoded:
    """Codes of the `names` columns of a prepared frame."""
    codes: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    for name in names:
        column = frame[name]
        if name == "id":  # only ever read back, never compared: each row its own code
            codes[name] = np.arange(frame.height, dtype=np.int32)
            values[name] = np.append(column.to_numpy().astype(object), "")
            continue
        distinct = column.filter(column != "").unique()
        numbers = pl.Series(range(distinct.len()), dtype=pl.Int32)
        coded = column.replace_strict(distinct, numbers, default=-1, return_dtype=pl.Int32)
        codes[name] = coded.to_numpy()
        # code -1 (missing) indexes the trailing "", so values[codes] is the column itself
        values[name] = np.append(distinct.to_numpy().astype(object), "")
    return Encoded(
        codes,
        values,
        frame["dob_days"].to_numpy().astype(np.float64),
        frame["namesakes"].to_numpy().astype(np.float64),
    )


def decode(
    enc: Encoded, rows: np.ndarray, names: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """The text columns of `rows` (only `names` of them, when given; and their dob_days
    and namesakes), as object arrays."""
    wanted = enc.codes if names is None else names
    out = {name: enc.values[name][enc.codes[name][rows]] for name in wanted}
    out["dob_days"] = enc.dob_days[rows]
    out["namesakes"] = enc.namesakes[rows]
    return out


def same(enc: Encoded, column: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Both present and equal."""
    a, b = enc.codes[column][left], enc.codes[column][right]
    return (a == b) & (a >= 0)


def similarity(
    enc: Encoded,
    columns: tuple[str, str],
    left: np.ndarray,
    right: np.ndarray,
    scorer: Any,
) -> np.ndarray:
    """Similarity of column[0] of `left` rows with column[1] of `right` rows; NaN if missing."""
    a = enc.codes[columns[0]][left].astype(np.int64)
    b = enc.codes[columns[1]][right].astype(np.int64)
    out = np.full(len(a), np.nan)
    present = (a >= 0) & (b >= 0)
    if columns[0] == columns[1]:  # one dictionary: equal codes are equal values
        equal = present & (a == b)
        out[equal] = 1.0
        present &= ~equal
    if not present.any():
        return out
    packed = (a[present] << 32) | b[present]
    order = np.argsort(packed, kind="stable")
    ordered = packed[order]
    starts = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    distinct = ordered[starts]
    inverse = np.empty(len(packed), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    scores = process.cpdist(
        enc.values[columns[0]][distinct >> 32],
        enc.values[columns[1]][distinct & 0xFFFFFFFF],
        scorer=scorer,
        workers=cpdist_workers(len(distinct)),
        dtype=np.float32,
    )
    out[present] = np.asarray(scores, dtype=np.float64)[inverse]
    return out
