"""Blocking: which pairs of records are worth comparing at all.

Each pass groups records by a key and, inside a group sorted by a second column,
pairs every record with the next `window` ones (sorted neighbourhood). Small groups
are therefore compared in full and huge ones (every John Smith) stay linear in size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class BlockingPass:
    """One blocking key: the columns it joins (all must be present) and the sort order."""

    name: str
    parts: tuple[str, ...]
    sort_by: tuple[str, ...]
    # key parts that become their first letter only
    initials: tuple[str, ...] = ()
    # order the two parts so a swapped first/last name gives the same key
    symmetric: bool = False


PASSES: tuple[BlockingPass, ...] = (
    BlockingPass("email", ("email",), ("last", "first")),
    BlockingPass("phone", ("phone",), ("last", "first")),
    # phonetic surname + phonetic (canonical) given name, in either order
    BlockingPass("name", ("last_code", "first_code"), ("dob", "city"), symmetric=True),
    # phonetic surname + first initial of the canonical given name: given-name typos
    BlockingPass(
        "surname", ("last_code", "first_canon"), ("dob", "first"), initials=("first_canon",)
    ),
    # the same with the roles swapped, so "Hall, Isla" meets "Isla Hall"
    BlockingPass("surname_swapped", ("first_code", "last"), ("dob", "last"), initials=("last",)),
    # date of birth + phonetic surname: a missing or garbled given name
    BlockingPass("dob_surname", ("dob", "last_code"), ("first",)),
    # date of birth + given-name initial: a garbled or changed surname
    BlockingPass("dob_given", ("dob", "first_canon"), ("last",), initials=("first_canon",)),
    # a changed or missing name: the same birth date at the same place
    BlockingPass("dob_postcode", ("dob", "postcode"), ("last", "first")),
    BlockingPass("dob_city", ("dob", "city"), ("last", "first")),
    BlockingPass("address", ("postcode", "address"), ("last", "first")),
)


def _key(block: BlockingPass) -> pl.Expr:
    parts = [pl.col(p).str.slice(0, 1) if p in block.initials else pl.col(p) for p in block.parts]
    if block.symmetric and len(parts) == 2:
        a, b = parts
        return (
            pl.when(a <= b)
            .then(pl.concat_str([a, b], separator="|"))
            .otherwise(pl.concat_str([b, a], separator="|"))
        )
    return pl.concat_str(parts, separator="|")


def keyed(frame: pl.DataFrame, block: BlockingPass) -> pl.DataFrame:
    """Row number, key hash and sort string of the rows that have the key, in window order."""
    return key_strings(frame, block).with_columns(pl.col("key").hash()).sort(["key", "sort"])


def key_strings(frame: pl.DataFrame, block: BlockingPass) -> pl.DataFrame:
    """Row number, key text and sort string of the rows that have the key (unsorted)."""
    present = pl.all_horizontal([pl.col(p) != "" for p in block.parts])
    return (
        frame.with_row_index("row")
        .filter(present)
        .select(
            pl.col("row").cast(pl.Int64),
            _key(block).alias("key"),
            pl.concat_str([pl.col(c) for c in block.sort_by], separator="|").alias("sort"),
        )
    )


def key_of_one(values: dict[str, object], block: BlockingPass) -> tuple[str, str] | None:
    """Key text and sort string of one prepared record, exactly as `key_strings` has them."""
    parts = [str(values[p]) for p in block.parts]
    if not all(parts):
        return None
    parts = [v[:1] if p in block.initials else v for p, v in zip(block.parts, parts, strict=True)]
    if block.symmetric:
        parts.sort()
    return "|".join(parts), "|".join(str(values[c]) for c in block.sort_by)


def candidate_pairs(frame: pl.DataFrame, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs (left row < right row) over every blocking pass."""
    chunks: list[np.ndarray] = []
    for block in PASSES:
        sorted_rows = keyed(frame, block)
        rows, keys = sorted_rows["row"].to_numpy(), sorted_rows["key"].to_numpy()
        for offset in range(1, window + 1):
            if offset >= len(rows):
                break
            same = keys[offset:] == keys[:-offset]
            if not same.any():
                break
            a, b = rows[:-offset][same], rows[offset:][same]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            chunks.append((lo << 32) | hi)
    if not chunks:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    packed = np.sort(np.concatenate(chunks))
    packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))]
    return packed >> 32, packed & 0xFFFFFFFF
