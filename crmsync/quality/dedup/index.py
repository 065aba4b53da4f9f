"""DuplicateIndex: contacts indexed once, kept current record by record, for check()."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmsync.quality.dedup.blocking import PASSES, BlockingPass, keyed
from crmsync.quality.dedup.compare import compare
from crmsync.quality.dedup.explain import PairExplanation, explain_pair
from crmsync.quality.dedup.prepared import TEXT_COLUMNS, columns, prepare
from crmsync.quality.dedup.rules import decide
from crmsync.quality.dedup.settings import DedupSettings

# Added records wait in a small side table; past this many they are folded into the base.
COMPACT_AT = 20_000


@dataclass(frozen=True)
class DuplicateCheck:
    """Whether a candidate duplicates an indexed contact, which one, and why."""

    is_duplicate: bool
    duplicate_of: str | None
    score: float
    matched_fields: tuple[str, ...]
    explanation: str
    evidence: PairExplanation | None = None


@dataclass(frozen=True)
class _Postings:
    """Rows of the base table sorted by (key hash, sort string) for one blocking pass."""

    keys: np.ndarray
    rows: np.ndarray
    sorts: np.ndarray

    @classmethod
    def of(cls, frame: pl.DataFrame, block: BlockingPass) -> _Postings:
        table = keyed(frame, block)
        return cls(
            table["key"].to_numpy(),
            table["row"].to_numpy(),
            table["sort"].to_numpy().astype(object),
        )

    def near(self, key: int, sort: str, window: int) -> np.ndarray:
        """Rows with `key`, at most `window` either side of where `sort` falls."""
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        if hi - lo > 2 * window:
            at = bisect.bisect_left(self.sorts, sort, lo, hi)
            lo, hi = max(lo, at - window), min(hi, at + window)
        return self.rows[lo:hi]


class DuplicateIndex:
    """An in-memory index of one workspace's contacts that answers check()."""

    def __init__(self, settings: DedupSettings | None = None) -> None:
        self.settings = settings or DedupSettings()
        self._base = prepare([], self.settings.region)
        self._postings = [_Postings.of(self._base, block) for block in PASSES]
        self._extra: list[dict[str, str]] = []
        self._extra_keys: list[dict[int, list[int]]] = [{} for _ in PASSES]
        self._alive: list[bool] = []
        self._row_of: dict[str, int] = {}

    @classmethod
    def build(
        cls,
        records: Iterable[Mapping[str, Any]] | pl.DataFrame,
        settings: DedupSettings | None = None,
    ) -> DuplicateIndex:
        """An index over `records` (each with a unique `id`)."""
        index = cls(settings)
        index._rebuild(prepare(records, index.settings.region))
        return index

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._row_of

    def add(self, record: Mapping[str, Any]) -> None:
        """Index `record`, replacing the indexed version with the same id."""
        self.add_many([record])

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        prepared = prepare(records, self.settings.region)
        for record_id in prepared["id"].to_list():
            self.remove(record_id)
        if len(self._extra) + prepared.height > COMPACT_AT:
            self._rebuild(pl.concat([self._live_frame(), prepared]))
            return
        first = len(self._alive)
        for block, extra in zip(PASSES, self._extra_keys, strict=True):
            table = keyed(prepared, block)
            for row, key in zip(table["row"].to_list(), table["key"].to_list(), strict=True):
                extra.setdefault(key, []).append(first + row)
        for row, values in enumerate(prepared.iter_rows(named=True)):
            self._extra.append(values)
            self._alive.append(True)
            self._row_of[values["id"]] = first + row

    def remove(self, record_id: str) -> bool:
        """Forget the record with this id; whether it was indexed."""
        row = self._row_of.pop(record_id, None)
        if row is None:
            return False
        self._alive[row] = False
        return True

    def check(self, candidate: Mapping[str, Any]) -> DuplicateCheck:
        """Whether `candidate` duplicates an indexed contact (itself excluded, by id)."""
        prepared = prepare([candidate], self.settings.region)
        rows = self._candidates(prepared)
        own = self._row_of.get(str(prepared["id"][0]))
        rows = [r for r in rows if self._alive[r] and r != own]
        if not rows:
            return DuplicateCheck(False, None, 0.0, (), "no indexed contact shares a blocking key")
        right = self._gather(rows)
        left = {k: np.repeat(v, len(rows)) for k, v in columns(prepared).items()}
        decisions = decide(compare(left, right), self.settings)
        score = np.where(decisions.is_match, decisions.score + 1.0, decisions.score)
        best = int(np.argmax(score))
        evidence = explain_pair(decisions, best, left, right)
        matched = bool(decisions.is_match[best])
        return DuplicateCheck(
            is_duplicate=matched,
            duplicate_of=evidence.right_id if matched else None,
            score=evidence.score,
            matched_fields=evidence.matched_fields,
            explanation=evidence.text(),
            evidence=evidence,
        )

    def _candidates(self, prepared: pl.DataFrame) -> list[int]:
        found: set[int] = set()
        window = self.settings.window
        for block, postings, extra in zip(PASSES, self._postings, self._extra_keys, strict=True):
            table = keyed(prepared, block)
            if table.height == 0:
                continue
            key, sort = int(table["key"][0]), str(table["sort"][0])
            found.update(postings.near(key, sort, window).tolist())
            found.update(extra.get(key, [])[-2 * window :])
        return sorted(found)

    def _gather(self, rows: list[int]) -> dict[str, np.ndarray]:
        base_height = self._base.height
        base_rows = [r for r in rows if r < base_height]
        parts = [self._base[base_rows]] if base_rows else []
        extra = [self._extra[r - base_height] for r in rows if r >= base_height]
        if extra:
            parts.append(pl.DataFrame(extra, schema=self._base.schema))
        return columns(pl.concat(parts))

    def _live_frame(self) -> pl.DataFrame:
        frame = pl.concat(
            [self._base, pl.DataFrame(self._extra, schema=self._base.schema)]
            if self._extra
            else [self._base]
        )
        return frame.filter(pl.Series(self._alive, dtype=pl.Boolean))

    def _rebuild(self, frame: pl.DataFrame) -> None:
        """Make `frame` the base table, with fresh postings and no side table."""
        frame = frame.unique(subset="id", keep="last", maintain_order=True)
        self._base = frame.select("id", *TEXT_COLUMNS)
        self._postings = [_Postings.of(self._base, block) for block in PASSES]
        self._extra = []
        self._extra_keys = [{} for _ in PASSES]
        self._alive = [True] * frame.height
        self._row_of = dict(zip(frame["id"].to_list(), range(frame.height), strict=True))
