"""StreamMatcher: the rows of a file, in file order, each against an index and the rows before it.

What a row is (a duplicate, a possible duplicate, new) is defined one row at a time, so
it cannot depend on how the file is cut into batches, or where a batch is checked:

- its candidates are the index's (looked up as ``DuplicateIndex.check`` looks them up;
  the index does not change while the file is matched) and, per blocking key, the
  last ``memory`` rows of the file before it with that key, whatever became of them;
- each pair is judged on its own (the name frequencies are the index's, frozen);
- its verdict is its best pair (a duplicate before a possible one, then the score, then
  the index before the file, then the earliest row); a row that duplicates an earlier
  row duplicates what that row became: its record, or what it duplicates in turn.

Batches are only the unit of work: the pairs of a batch are judged together.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import polars as pl

from crmsync.dedup.engine.blocking import PASSES
from crmsync.dedup.engine.coded_rows import CodedRows
from crmsync.dedup.engine.compare import compare_coded
from crmsync.dedup.engine.index import CHECK_CHUNK, DuplicateIndex, Match, ranking
from crmsync.dedup.engine.postings import KeyTable, distinct_sorted
from crmsync.dedup.engine.prefilter import worth_scoring
from crmsync.dedup.engine.prepared import TEXT_COLUMNS, Prepared
from crmsync.dedup.engine.rules import DUPLICATE, POSSIBLE, decide

_MIN_ROWS = 1024
_LOW = np.int64(0xFFFFFFFF)


class KeyChains:
    """The file's rows of one blocking pass, by key: each key's latest row, and per row the
    row before it with the same key (-1: none), so a key's latest rows are a walk back;
    and how many rows each key has had.

    Equivalent to keeping, per key, the list of its rows in file order and reading its
    last ``memory`` entries before each new row (``tests/dedup/engine/test_stream_pairs``
    holds that definition), but a batch costs numpy work per row and a dictionary look-up
    per distinct key, and no Python object per row.
    """

    def __init__(self) -> None:
        # per key: how many rows it has had and its latest row, packed in one integer
        # (``count << 32 | latest + 1``; 0 for a key not seen), so a batch costs one
        # look-up and one update per distinct key
        self.state: dict[int, int] = {}
        self.previous = np.full(_MIN_ROWS, -1, dtype=np.int64)

    def add(self, rows: np.ndarray, keys: np.ndarray, memory: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows (ascending, after every row added so far) with their key hashes join the
        chains; returns every (row, earlier row) pair where the earlier row is one of the
        latest ``memory`` rows with the row's key before it."""
        self.join(rows, keys)
        return self.walk(rows, memory)

    def join(self, rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows (ascending, after every row added so far with one of their keys) with their
        key hashes join the chains; returns per row how many rows had its key before it,
        and how many have had it once the rows joined."""
        if not len(rows):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        order = np.argsort(keys, kind="stable")  # by key, then file order
        keys, ordered = keys[order], rows[order]
        firsts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        lasts = np.append(firsts[1:], len(keys)) - 1
        before = np.empty(len(ordered), dtype=np.int64)
        before[1:] = ordered[:-1]
        distinct = keys[firsts].tolist()
        state = np.fromiter(
            map(self.state.get, distinct, itertools.repeat(0)), dtype=np.int64, count=len(firsts)
        )
        before[firsts] = (state & _LOW) - 1
        counted = state >> 32
        sizes = lasts - firsts + 1
        updated = ((counted + sizes) << 32) | (ordered[lasts] + 1)
        self.state.update(zip(distinct, updated.tolist(), strict=True))
        group = np.repeat(np.arange(len(firsts)), sizes)
        seen = np.empty(len(rows), dtype=np.int64)
        seen[order] = counted[group] + np.arange(len(ordered)) - firsts[group]
        total = np.empty(len(rows), dtype=np.int64)
        total[order] = (counted + sizes)[group]
        end = int(rows[-1]) + 1
        if end > len(self.previous):
            grown = np.full(max(end, 2 * len(self.previous)), -1, dtype=np.int64)
            grown[: len(self.previous)] = self.previous
            self.previous = grown
        self.previous[ordered] = before
        return seen, total

    def walk(self, rows: np.ndarray, memory: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, earlier row) for the latest ``memory`` rows before each of ``rows`` (which
        have joined) with its key."""
        owners: list[np.ndarray] = []
        earlier: list[np.ndarray] = []
        owner, back = rows, self.previous[rows]
        for _ in range(memory):
            has = back >= 0
            owner, back = owner[has], back[has]
            if not len(owner):
                break
            owners.append(owner)
            earlier.append(back)
            back = self.previous[back]
        if not owners:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(owners), np.concatenate(earlier)


class PassChains:
    """One blocking pass's file rows: a key's rows while they are few, and, once a key is
    common (more than ``memory`` rows before), the rows that also share its sort string.

    A row's candidates are every earlier row with its key while the key has had at most
    ``memory`` rows (so small groups are compared in full, as before), else the latest
    ``memory`` earlier rows with its key and sort string: in a common key (every James
    of a phonetic surname class) the latest rows in file order are arbitrary, while the
    same sort string (birth date, city, the exact name) is where the index's sorted
    neighbourhood looks too. Either way a row has at most ``memory`` candidates per pass,
    however many rows came before.

    Only a common key's rows are chained by sort string (most keys, an e-mail's or a
    phone's, never become common): when a key becomes common, its earlier rows (at most
    ``memory`` of them) join those chains first. ``memory`` is the same on every call.
    """

    def __init__(self) -> None:
        self.keys = KeyChains()
        self.refined = KeyChains()
        # per row: the hash of its key and sort string (``refined_keys``)
        self.refined_of = np.zeros(_MIN_ROWS, dtype=np.int64)

    def add(
        self, rows: np.ndarray, keys: np.ndarray, refined: np.ndarray, memory: int
    ) -> tuple[np.ndarray, np.ndarray]:
        seen, total = self.keys.join(rows, keys)
        self._join_refined(rows, refined, seen, total, memory)
        few = seen <= memory
        owner, earlier = self.keys.walk(rows[few], memory)
        common_owner, common_earlier = self.refined.walk(rows[~few], memory)
        return np.concatenate([owner, common_owner]), np.concatenate([earlier, common_earlier])

    def _join_refined(
        self,
        rows: np.ndarray,
        refined: np.ndarray,
        seen: np.ndarray,
        total: np.ndarray,
        memory: int,
    ) -> None:
        """The rows of common keys (more than ``memory`` rows once these joined) join the
        chains by sort string; a key that becomes common brings its earlier rows first."""
        if not len(rows):
            return
        end = int(rows[-1]) + 1
        if end > len(self.refined_of):
            grown = np.zeros(max(end, 2 * len(self.refined_of)), dtype=np.int64)
            grown[: len(self.refined_of)] = self.refined_of
            self.refined_of = grown
        self.refined_of[rows] = refined
        common = total > memory
        if not common.any():
            return
        # a key's first row of these, the key common only from these rows on
        first_of_key = self.keys.previous[rows] < rows[0]
        newly = rows[first_of_key & common & (seen <= memory)]
        _owner, earlier = self.keys.walk(newly, memory)  # every earlier row of those keys
        joining = np.concatenate([np.sort(earlier), rows[common]])
        self.refined.join(joining, self.refined_of[joining])


def refined_keys(keys: np.ndarray, sorts: list[str]) -> np.ndarray:
    """A hash of each (key hash, sort string)."""
    sort_hashes = np.fromiter(map(hash, sorts), dtype=np.int64, count=len(sorts))
    return (keys * np.int64(1_000_003)) ^ sort_hashes


class _Best(NamedTuple):
    status: str
    rank: float
    row: int  # the earlier file row


class StreamMatcher:
    """Matches a file's rows, batch by batch, in file order."""

    def __init__(self, index: DuplicateIndex, memory: int | None = None) -> None:
        self.index = index
        self.settings = index.settings
        self.memory = memory if memory is not None else 2 * self.settings.window
        # the file's rows, coded in the index's dictionaries: a batch is coded once for both
        self._rows = CodedRows.sharing(index.coded)
        # per blocking pass: each key's file rows, as a chain from its latest row back
        self._chains = [PassChains() for _ in PASSES]
        # per file row: the id it stands for (its own, or what it duplicates)
        self._becomes: list[str] = []

    def __len__(self) -> int:
        return len(self._becomes)

    def match(self, records: Prepared | pl.DataFrame) -> list[Match | None]:
        """The verdict of each row of the next batch (``id`` unique across the file)."""
        frame = records.frame if isinstance(records, Prepared) else records
        frame = self.index.with_namesakes(frame.select("id", *TEXT_COLUMNS))
        keys = [KeyTable.of(frame, block) for block in PASSES]
        # the index keeps its dictionaries unless it is rebuilt (not during an import)
        codes = self._rows.codes(frame)
        shared = self._rows.shares_values_with(self.index.coded)
        if frame.height <= CHECK_CHUNK:  # the keys (and codes) serve both look-ups
            indexed = self.index.matches_of(frame, keys, codes if shared else None)
        else:
            indexed = self.index.matches(Prepared(frame))
        first = len(self._becomes)
        left, right = self._file_pairs(keys, first)
        self._rows.append(frame, codes)
        best = self._best_in_file(left, right, first)
        ids = frame["id"].to_list()
        out: list[Match | None] = []
        for at, (own, found) in enumerate(zip(ids, indexed, strict=True)):
            chosen = self._choose(found, best.get(first + at))
            self._becomes.append(
                chosen.of if chosen is not None and chosen.status == DUPLICATE else own
            )
            out.append(chosen)
        return out

    def _choose(self, indexed: Match | None, in_file: _Best | None) -> Match | None:
        if in_file is None:
            return indexed
        file_rank = in_file.rank
        if indexed is not None:
            indexed_rank = indexed.score + (2.0 if indexed.status == DUPLICATE else 1.0)
            if indexed_rank >= file_rank:
                return indexed
        status = in_file.status
        score = in_file.rank - (2.0 if status == DUPLICATE else 1.0)
        return Match(status, self._becomes[in_file.row], score)

    def _file_pairs(self, keys: list[KeyTable], first: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, earlier row) pairs sharing a blocking key, the earlier among the latest
        ``memory`` with it, distinct and ordered; the batch's rows join the chains."""
        found: list[np.ndarray] = []
        for table, chains in zip(keys, self._chains, strict=True):
            refined = refined_keys(table.hashes, table.sorts.to_list())
            owner, earlier = chains.add(table.rows + first, table.hashes, refined, self.memory)
            found.append((owner << 32) | earlier)
        pairs = distinct_sorted(np.concatenate(found))
        return pairs >> 32, pairs & 0xFFFFFFFF

    def _best_in_file(self, left: np.ndarray, right: np.ndarray, first: int) -> dict[int, _Best]:
        """Per row of the batch that has one, its best duplicate or possible earlier row."""
        if not len(left):
            return {}
        enc = self._rows.whole()  # rows by number: the pairs index it as they are
        keep = np.flatnonzero(worth_scoring(enc, left, right, self.settings))
        if not len(keep):
            return {}
        decisions = decide(compare_coded(enc, left[keep], right[keep]), self.settings)
        rank = ranking(decisions)
        found = np.flatnonzero(decisions.is_match | decisions.possible)
        owners, earlier = left[keep][found], right[keep][found]
        # per row: best rank, then the earliest row
        order = np.lexsort((earlier, -rank[found], owners))
        ordered = owners[order]
        firsts = order[np.concatenate(([True], ordered[1:] != ordered[:-1]))[: len(order)]]
        duplicate = decisions.is_match[found[firsts]].tolist()
        return {
            owner: _Best(DUPLICATE if dup else POSSIBLE, score, row)
            for owner, dup, score, row in zip(
                owners[firsts].tolist(),
                duplicate,
                rank[found[firsts]].tolist(),
                earlier[firsts].tolist(),
                strict=True,
            )
        }
