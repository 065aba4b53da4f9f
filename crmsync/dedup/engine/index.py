"""DuplicateIndex: contacts indexed once, kept current batch by batch, for check()."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import polars as pl

from crmsync.dedup.engine.blocking import PASSES, key_of_one, key_strings
from crmsync.dedup.engine.coded_rows import CodedRows
from crmsync.dedup.engine.compare import compare, compare_coded
from crmsync.dedup.engine.encoded import ALL_TEXT, encode
from crmsync.dedup.engine.explain import PairExplanation, explain_pairs
from crmsync.dedup.engine.postings import KeyTable, Postings, distinct_sorted, key_hashes
from crmsync.dedup.engine.prefilter import worth_scoring
from crmsync.dedup.engine.prepared import (
    TEXT_COLUMNS,
    Records,
    columns,
    count_namesakes,
    name_key,
    name_keys,
    prepare,
)
from crmsync.dedup.engine.rules import DISTINCT, DUPLICATE, POSSIBLE, Decisions, decide
from crmsync.dedup.engine.settings import DedupSettings
from crmsync.dedup.engine.single import prepare_one

# Added records wait in a side table; past this many (or a quarter of the base, when
# larger) they are folded into the base, so a long run of additions costs linear time.
COMPACT_AT = 20_000
# check_many scores this many candidates at once: bounds the memory of the pair arrays
CHECK_CHUNK = 5_000

NO_CANDIDATE = "no indexed contact shares a blocking key"


@dataclass(frozen=True)
class DuplicateCheck:
    """Whether a candidate duplicates an indexed contact, which one, and why."""

    is_duplicate: bool
    duplicate_of: str | None
    score: float
    matched_fields: tuple[str, ...]
    explanation: str
    evidence: PairExplanation | None = None
    # duplicate (act on it), possible (ask a person), distinct
    status: str = DISTINCT
    # the indexed contact a `possible` candidate may duplicate
    possible_of: str | None = None


@dataclass(frozen=True)
class Match:
    """A candidate's best indexed match: its verdict, the contact's id and the score."""

    status: str  # duplicate | possible
    of: str
    score: float


def _verdicts(decisions: Decisions, ks: list[int], left: Any, right: Any) -> list[DuplicateCheck]:
    """The answers given by pairs `ks`, each a candidate's best."""
    matched = decisions.is_match[ks].tolist()
    possible = decisions.possible[ks].tolist()
    return [
        DuplicateCheck(
            is_duplicate=is_match,
            duplicate_of=evidence.right_id if is_match else None,
            score=evidence.score,
            matched_fields=evidence.matched_fields,
            explanation=evidence.text(),
            evidence=evidence,
            status=DUPLICATE if is_match else POSSIBLE if maybe else DISTINCT,
            possible_of=evidence.right_id if maybe and not is_match else None,
        )
        for is_match, maybe, evidence in zip(
            matched, possible, explain_pairs(decisions, ks, left, right), strict=True
        )
    ]


def ranking(decisions: Decisions) -> np.ndarray:
    """What picks the answer among a candidate's pairs: a duplicate beats every possible
    duplicate, which beats every other pair; then the score."""
    return decisions.score + np.where(
        decisions.is_match, 2.0, np.where(decisions.possible, 1.0, 0.0)
    )


class DuplicateIndex:
    """An in-memory index of one workspace's contacts that answers check()."""

    def __init__(self, settings: DedupSettings | None = None, compact_at: int = COMPACT_AT) -> None:
        self.settings = settings or DedupSettings()
        self.compact_at = compact_at
        self._rebuild(prepare([], self.settings.region))

    @classmethod
    def build(
        cls,
        records: Records,
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

    def add_many(self, records: Records) -> None:
        """Index a batch (the last of several with one id wins), replacing indexed versions."""
        prepared = prepare(records, self.settings.region)
        prepared = prepared.unique(subset="id", keep="last", maintain_order=True)
        for record_id in prepared["id"].to_list():
            self.remove(record_id)
        side_rows = self._coded.height - self._base.height
        if side_rows + prepared.height > max(self.compact_at, self._base.height // 4):
            self._rebuild(pl.concat([self._live_frame(), prepared]))
            return
        first_row = len(self._alive)
        for block, extra in zip(PASSES, self._extra_keys, strict=True):
            table = key_strings(prepared, block)
            rows = (table["row"] + first_row).to_list()
            for key, row in zip(key_hashes(table["key"]).tolist(), rows, strict=True):
                extra.setdefault(key, []).append(row)
        self._coded.append(prepared)
        self._side.append(prepared)
        names = prepared["first_canon"].to_list(), prepared["last"].to_list()
        for first, last in zip(*names, strict=True):
            self._count(first, last, +1)
        self._alive.extend(b"\x01" * prepared.height)
        added = range(first_row, len(self._alive))
        self._row_of.update(zip(prepared["id"].to_list(), added, strict=True))

    def remove(self, record_id: str) -> bool:
        """Forget the record with this id; whether it was indexed."""
        row = self._row_of.pop(record_id, None)
        if row is None:
            return False
        self._alive[row] = 0
        self._count(self._coded.value(row, "first_canon"), self._coded.value(row, "last"), -1)
        return True

    def _count(self, first_canon: str, last: str, change: int) -> None:
        name = name_key(first_canon, last)
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
            return DuplicateCheck(False, None, 0.0, (), NO_CANDIDATE)
        right = self._coded.decode(np.array(rows, dtype=np.int64))
        left = {k: np.full(len(rows), v, dtype=object) for k, v in values.items()}
        decisions = decide(compare(left, right), self.settings)
        return _verdicts(decisions, [int(np.argmax(ranking(decisions)))], left, right)[0]

    def check_many(self, candidates: Records) -> list[DuplicateCheck]:
        """`check` of every candidate against the index as it is (not against each other),
        prepared, looked up and scored in bulk; the answers are those of `check`."""
        frame = prepare(candidates, self.settings.region)
        out: list[DuplicateCheck] = []
        for start in range(0, frame.height, CHECK_CHUNK):
            chunk = frame.slice(start, CHECK_CHUNK)
            answers = [DuplicateCheck(False, None, 0.0, (), NO_CANDIDATE)] * chunk.height
            if (best := self._best_pairs(chunk)) is not None:
                positions, ks, decisions, left, right = best
                for at, answer in zip(
                    positions, _verdicts(decisions, ks, left, right), strict=True
                ):
                    answers[at] = answer
            out += answers
        return out

    def duplicate_ids(self, candidates: Records) -> list[str | None]:
        """Per candidate, the id of the indexed contact it duplicates (None: none)."""
        return [
            m.of if m is not None and m.status == DUPLICATE else None
            for m in self.matches(candidates)
        ]

    def matches(self, candidates: Records) -> list[Match | None]:
        """Per candidate, its best duplicate, else its best possible duplicate (None: neither),
        without explanations: what an import needs.

        Pairs are first put through ``find_duplicates``' prefilter on integer codes, so
        only plausible ones are scored in full; the answers are ``check``'s wherever the
        prefilter keeps the pair that ``check`` matches, as it does for every pair that
        shares an e-mail, a phone, a birth date or an address.
        """
        frame = prepare(candidates, self.settings.region)
        out: list[Match | None] = []
        for start in range(0, frame.height, CHECK_CHUNK):
            out += self.matches_of(self.with_namesakes(frame.slice(start, CHECK_CHUNK)))
        return out

    @property
    def coded(self) -> CodedRows:
        """The indexed rows as codes (replaced when the index is rebuilt)."""
        return self._coded

    def matches_of(
        self,
        chunk: pl.DataFrame,
        keys: list[KeyTable] | None = None,
        codes: dict[str, np.ndarray] | None = None,
    ) -> list[Match | None]:
        """``matches`` of prepared candidates with their namesakes counted
        (``with_namesakes``), and their ``keys`` per blocking pass and ``codes``
        (``coded.codes``) when the caller has them."""
        answers: list[Match | None] = [None] * chunk.height
        owner, rows = self._candidates_many(chunk, keys)
        if not len(rows):
            return answers
        # the pairs' indexed rows, then the candidates, in the index's own coding
        enc = self._coded.encoded(rows, chunk, codes)
        left, right = len(rows) + owner, np.arange(len(rows))
        keep = np.flatnonzero(worth_scoring(enc, left, right, self.settings))
        left, right = left[keep], right[keep]
        decisions = decide(compare_coded(enc, left, right), self.settings)
        rank = ranking(decisions)
        matched = np.flatnonzero(decisions.is_match | decisions.possible)
        # per candidate, its best match, the first in row order among equals
        order = matched[np.lexsort((matched, -rank[matched], left[matched]))]
        owners = left[order]
        firsts = order[np.concatenate(([True], owners[1:] != owners[:-1]))[: len(order)]]
        ids = enc.values["id"][enc.codes["id"][right[firsts]]]
        positions = (left[firsts] - len(rows)).tolist()
        duplicate = decisions.is_match[firsts].tolist()
        scores = decisions.score[firsts].tolist()
        for at, record_id, dup, score in zip(
            positions, ids.tolist(), duplicate, scores, strict=True
        ):
            answers[at] = Match(DUPLICATE if dup else POSSIBLE, str(record_id), score)
        return answers

    def with_namesakes(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Candidates with `namesakes` counted in the index (themselves included)."""
        names = frame.select(name_keys()).to_series().to_list()  # None: no name_key
        counts = np.fromiter(
            map(self._namesakes.get, names, repeat(0)), dtype=np.float64, count=len(names)
        )
        return frame.with_columns(pl.Series("namesakes", counts + 1.0, dtype=pl.Float64))

    def _best_pairs(
        self, frame: pl.DataFrame
    ) -> (
        tuple[list[int], list[int], Decisions, dict[str, np.ndarray], dict[str, np.ndarray]] | None
    ):
        """Scores every candidate pair of `frame`'s rows; per candidate that has any, its
        position in `frame` and its best pair. None when no row has a candidate."""
        frame = self.with_namesakes(frame)
        owner, rows = self._candidates_many(frame)
        if not len(rows):
            return None
        left = {k: v[owner] for k, v in columns(frame).items()}
        right = self._coded.decode(rows)
        decisions = decide(compare(left, right), self.settings)
        # per candidate, the first of its best pairs (pairs are in row order, as in check)
        order = np.lexsort((np.arange(len(rows)), -ranking(decisions), owner))
        firsts = order[np.concatenate(([True], owner[order][1:] != owner[order][:-1]))]
        return owner[firsts].tolist(), firsts.tolist(), decisions, left, right

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

    def _candidates_many(
        self, frame: pl.DataFrame, keys: list[KeyTable] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distinct live (candidate position, row) pairs, ordered; a record is not its own."""
        window = self.settings.window
        found: list[np.ndarray] = []
        if keys is None:
            keys = [KeyTable.of(frame, block) for block in PASSES]
        for table, postings, extra in zip(keys, self._postings, self._extra_keys, strict=True):
            hashes, position = table.hashes, table.rows
            owner, rows = postings.near_many(hashes, table.sorts, window)
            found.append((position[owner] << 32) | rows)
            if extra:
                more = [
                    (p << 32) | row
                    for p, key in zip(position.tolist(), hashes.tolist(), strict=True)
                    for row in extra.get(key, [])[-2 * window :]
                ]
                found.append(np.array(more, dtype=np.int64))
        pairs = distinct_sorted(np.concatenate(found))
        owner, rows = pairs >> 32, pairs & 0xFFFFFFFF
        own = np.array([self._row_of.get(i, -1) for i in frame["id"].to_list()], dtype=np.int64)
        alive = np.frombuffer(bytes(self._alive), dtype=np.bool_)
        keep = alive[rows] & (rows != own[owner])
        return owner[keep], rows[keep]

    def _live_frame(self) -> pl.DataFrame:
        frame = pl.concat([self._base, *self._side])
        return frame.filter(pl.Series(np.frombuffer(bytes(self._alive), dtype=np.bool_)))

    def _rebuild(self, frame: pl.DataFrame) -> None:
        """Make `frame` the base table, with fresh postings and no side table."""
        frame = count_namesakes(frame.unique(subset="id", keep="last", maintain_order=True))
        named = frame.filter((pl.col("first_canon") != "") & (pl.col("last") != ""))
        counts = named.group_by("first_canon", "last").len()
        self._namesakes: dict[str, int] = {
            f"{first}|{last}": n for first, last, n in counts.iter_rows()
        }
        self._base = frame.select("id", *TEXT_COLUMNS)
        self._coded = CodedRows(encode(self._base, ALL_TEXT))
        self._postings = [Postings.of(self._base, block) for block in PASSES]
        # the frames indexed since, for the next rebuild
        self._side: list[pl.DataFrame] = []
        self._extra_keys: list[dict[int, list[int]]] = [{} for _ in PASSES]
        # one byte per row (1 live, 0 removed): appends cheaply, views as a numpy mask
        self._alive = bytearray(b"\x01") * frame.height
        self._row_of = dict(zip(frame["id"].to_list(), range(frame.height), strict=True))
