"""Postings: the rows of an indexed table sorted by blocking key, for candidate look-ups.

One record's look-up (`near`) and a whole batch's (`near_many`) give the same rows:
the batch version runs the same binary search for every candidate at once.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import polars as pl

from crmsync.dedup.engine.blocking import BlockingPass, key_strings


def key_hashes(keys: pl.Series) -> np.ndarray:
    """Python hashes of key texts: compact, and what a record prepared alone hashes to
    (an index lives in one process, so the per-process hash seed does not matter)."""
    return np.fromiter(map(hash, keys.to_list()), dtype=np.int64, count=keys.len())


@dataclass(frozen=True)
class KeyTable:
    """One blocking pass's keys of a frame: the rows that have one, their key hashes and
    sort strings (``key_strings``, hashed once for every use of the batch)."""

    rows: np.ndarray
    hashes: np.ndarray
    sorts: pl.Series

    @classmethod
    def of(cls, frame: pl.DataFrame, block: BlockingPass) -> KeyTable:
        table = key_strings(frame, block)
        return cls(table["row"].to_numpy(), key_hashes(table["key"]), table["sort"])


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an integer array, by sorting (numpy's hashing unique is many times
    slower on the pair arrays a batch makes)."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))[: len(ordered)]]


def spans(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every position of the ranges [starts[i], stops[i]), with the range number i."""
    counts = np.maximum(stops - starts, 0)
    owner = np.repeat(np.arange(len(starts)), counts)
    first = np.cumsum(counts) - counts
    positions = starts[owner] + np.arange(len(owner)) - first[owner]
    return owner, positions


@dataclass(frozen=True)
class Postings:
    """Rows of a table sorted by (key hash, sort string) for one blocking pass."""

    keys: np.ndarray
    rows: np.ndarray
    sorts: pl.Series  # compact; only a few values are read per look-up

    @classmethod
    def of(cls, frame: pl.DataFrame, block: BlockingPass) -> Postings:
        table = key_strings(frame, block)
        hashes = pl.Series("hash", key_hashes(table["key"]), dtype=pl.Int64)
        table = table.with_columns(hashes).sort(["hash", "sort"])
        return cls(table["hash"].to_numpy(), table["row"].to_numpy(), table["sort"])

    def near(self, key: int, sort: str, window: int) -> np.ndarray:
        """Rows with `key`, at most `window` either side of where `sort` falls."""
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        if hi - lo > 2 * window:
            at = bisect.bisect_left(self.sorts, sort, lo, hi)
            lo, hi = max(lo, at - window), min(hi, at + window)
        return self.rows[lo:hi]

    def near_many(
        self, keys: np.ndarray, sorts: pl.Series, window: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """`near` for every (key, sort): pairs of (position in `keys`, row)."""
        lo = np.searchsorted(self.keys, keys, side="left")
        hi = np.searchsorted(self.keys, keys, side="right")
        wide = np.flatnonzero(hi - lo > 2 * window)
        if len(wide):
            at = self._bisect_many(sorts.gather(wide), lo[wide], hi[wide])
            lo[wide] = np.maximum(lo[wide], at - window)
            hi[wide] = np.minimum(hi[wide], at + window)
        owner, positions = spans(lo, hi)
        return owner, self.rows[positions]

    def _bisect_many(self, targets: pl.Series, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """`bisect.bisect_left(self.sorts, targets[i], lo[i], hi[i])` for every i at once."""
        lo, hi = lo.copy(), hi.copy()
        while True:
            active = np.flatnonzero(lo < hi)
            if not len(active):
                return lo
            mid = (lo[active] + hi[active]) // 2
            below = (self.sorts.gather(mid) < targets.gather(active)).to_numpy()
            lo[active[below]] = mid[below] + 1
            hi[active[~below]] = mid[~below]
