"""DuplicateIndex: contacts indexed once, kept current record by record, for check()."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmsync.quality.dedup.blocking import PASSES, BlockingPass, key_of_one, key_strings
from crmsync.quality.dedup.compare import compare
from crmsync.quality.dedup.encoded import ALL_TEXT, Encoded, decode, encode
from crmsync.quality.dedup.explain import PairExplanation, explain_pair
from crmsync.quality.dedup.prepared import TEXT_COLUMNS, count_namesakes, name_key, prepare
from crmsync.quality.dedup.rules import decide
from crmsync.quality.dedup.settings import DedupSettings
from crmsync.quality.dedup.single import prepare_one

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
    """Rows of the base table sorted by (key, sort string) for one blocking pass.

    Keys are Python hashes of the key text: compact, and the same for a candidate
    prepared in plain Python (the index lives in one process).
    """

    keys: np.ndarray
    rows: np.ndarray
    sorts: pl.Series  # compact; only a few values are read per lookup

    @classmethod
    def of(cls, frame: pl.DataFrame, block: BlockingPass) -> _Postings:
        table = key_strings(frame, block)
        hashes = pl.Series("hash", [hash(k) for k in table["key"].to_list()], dtype=pl.Int64)
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


class DuplicateIndex:
    """An in-memory index of one workspace's contacts that answers check()."""

    def __init__(self, settings: DedupSettings | None = None, compact_at: int = COMPACT_AT) -> None:
        self.settings = settings or DedupSettings()
        self.compact_at = compact_at
        self._base = prepare([], self.settings.region)
        self._encoded: Encoded = encode(self._base, ALL_TEXT)
        self._postings = [_Postings.of(self._base, block) for block in PASSES]
        self._extra: list[dict[str, Any]] = []
        self._namesakes: dict[str, int] = {}
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
        if len(self._extra) + prepared.height > self.compact_at:
            self._rebuild(pl.concat([self._live_frame(), prepared]))
            return
        for values in prepared.iter_rows(named=True):
            row = len(self._alive)
            for block, extra in zip(PASSES, self._extra_keys, strict=True):
                keyed = key_of_one(values, block)
                if keyed is not None:
                    extra.setdefault(hash(keyed[0]), []).append(row)
            self._extra.append(values)
            self._count(values, +1)
            self._alive.append(True)
            self._row_of[values["id"]] = row

    def remove(self, record_id: str) -> bool:
        """Forget the record with this id; whether it was indexed."""
        row = self._row_of.pop(record_id, None)
        if row is None:
            return False
        self._alive[row] = False
        height = self._base.height
        values = self._extra[row - height] if row >= height else self._base.row(row, named=True)
        self._count(values, -1)
        return True

    def _count(self, values: Mapping[str, Any], change: int) -> None:
        name = name_key(values["first_canon"], values["last"])
        if name is not None:
            self._namesakes[name] = self._namesakes.get(name, 0) + change

    def check(self, candidate: Mapping[str, Any]) -> DuplicateCheck:
        """Whether `candidate` duplicates an indexed contact (itself excluded, by id)."""
        values = prepare_one(candidate, self.settings.region)
        name = name_key(values["first_canon"], values["last"])
        if name is not None:
            values["namesakes"] = float(self._namesakes.get(name, 0) + 1)
        rows = self._candidates(values)
        own = self._row_of.get(values["id"])
        rows = [r for r in rows if self._alive[r] and r != own]
        if not rows:
            return DuplicateCheck(False, None, 0.0, (), "no indexed contact shares a blocking key")
        right = self._gather(rows)
        left = {k: np.full(len(rows), v, dtype=object) for k, v in values.items()}
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

    def _candidates(self, values: dict[str, Any]) -> list[int]:
        found: set[int] = set()
        window = self.settings.window
        for block, postings, extra in zip(PASSES, self._postings, self._extra_keys, strict=True):
            keyed = key_of_one(values, block)
            if keyed is None:
                continue
            key = hash(keyed[0])
            found.update(postings.near(key, keyed[1], window).tolist())
            found.update(extra.get(key, [])[-2 * window :])
        return sorted(found)

    def _gather(self, rows: list[int]) -> dict[str, np.ndarray]:
        height = self._base.height
        base = decode(self._encoded, np.array([r for r in rows if r < height], dtype=np.int64))
        extra = [self._extra[r - height] for r in rows if r >= height]
        if not extra:
            return base
        return {
            name: np.concatenate([base[name], np.array([e[name] for e in extra], dtype=object)])
            for name in base
        }

    def _live_frame(self) -> pl.DataFrame:
        frame = pl.concat(
            [self._base, pl.DataFrame(self._extra, schema=self._base.schema)]
            if self._extra
            else [self._base]
        )
        return frame.filter(pl.Series(self._alive, dtype=pl.Boolean))

    def _rebuild(self, frame: pl.DataFrame) -> None:
        """Make `frame` the base table, with fresh postings and no side table."""
        frame = count_namesakes(frame.unique(subset="id", keep="last", maintain_order=True))
        named = frame.filter((pl.col("first_canon") != "") & (pl.col("last") != ""))
        counts = named.group_by("first_canon", "last").len()
        self._namesakes = {f"{first}|{last}": n for first, last, n in counts.iter_rows()}
        self._base = frame.select("id", *TEXT_COLUMNS)
        self._encoded = encode(self._base, ALL_TEXT)
        self._postings = [_Postings.of(self._base, block) for block in PASSES]
        self._extra = []
        self._extra_keys = [{} for _ in PASSES]
        self._alive = [True] * frame.height
        self._row_of = dict(zip(frame["id"].to_list(), range(frame.height), strict=True))
