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

from dataclasses import dataclass

import numpy as np
import polars as pl

from crmsync.dedup.engine.blocking import PASSES, key_strings
from crmsync.dedup.engine.coded_rows import CodedRows
from crmsync.dedup.engine.compare import compare
from crmsync.dedup.engine.encoded import ALL_TEXT, decode, encode
from crmsync.dedup.engine.index import DuplicateIndex, Match, ranking
from crmsync.dedup.engine.postings import key_hashes
from crmsync.dedup.engine.prefilter import worth_scoring
from crmsync.dedup.engine.prepared import TEXT_COLUMNS, Prepared, prepare
from crmsync.dedup.engine.rules import DUPLICATE, POSSIBLE, decide


@dataclass(frozen=True)
class _Best:
    status: str
    rank: float
    row: int  # the earlier file row


class StreamMatcher:
    """Matches a file's rows, batch by batch, in file order."""

    def __init__(self, index: DuplicateIndex, memory: int | None = None) -> None:
        self.index = index
        self.settings = index.settings
        self.memory = memory if memory is not None else 2 * self.settings.window
        empty = prepare([], self.settings.region).select("id", *TEXT_COLUMNS)
        self._rows_frame_empty = empty
        self._rows = CodedRows(encode(empty, ALL_TEXT))
        # per blocking pass: key hash -> the latest file rows with that key (one: the row)
        self._history: list[dict[int, int | list[int]]] = [{} for _ in PASSES]
        # per file row: the id it stands for (its own, or what it duplicates)
        self._becomes: list[str] = []

    def __len__(self) -> int:
        return len(self._becomes)

    def match(self, records: Prepared | pl.DataFrame) -> list[Match | None]:
        """The verdict of each row of the next batch (``id`` unique across the file)."""
        frame = records.frame if isinstance(records, Prepared) else records
        frame = self.index.with_namesakes(frame.select("id", *TEXT_COLUMNS))
        indexed = self.index.matches(Prepared(frame))
        first = len(self._becomes)
        left, right = self._file_pairs(frame, first)
        self._rows.append(frame)
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

    def _file_pairs(self, frame: pl.DataFrame, first: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, earlier row) pairs sharing a blocking key, the earlier among the latest
        ``memory`` with it; the batch's rows join the history in order."""
        per_row: list[set[int]] = [set() for _ in range(frame.height)]
        keys: list[list[tuple[int, int]]] = [[] for _ in range(frame.height)]
        for p, block in enumerate(PASSES):
            table = key_strings(frame, block)
            for at, key in zip(
                table["row"].to_list(), key_hashes(table["key"]).tolist(), strict=True
            ):
                keys[at].append((p, key))
        for at, row_keys in enumerate(keys):
            row = first + at
            for p, key in row_keys:
                history = self._history[p]
                seen = history.get(key)
                if seen is None:  # most keys have one row: kept as a number, not a list
                    history[key] = row
                    continue
                if isinstance(seen, int):
                    per_row[at].add(seen)
                    history[key] = [seen, row]
                    continue
                per_row[at].update(seen[-self.memory :])
                seen.append(row)
                if len(seen) > 2 * self.memory:
                    del seen[: len(seen) - self.memory]
        left = [first + at for at, found in enumerate(per_row) for _ in found]
        right = [r for found in per_row for r in sorted(found)]
        return np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)

    def _best_in_file(self, left: np.ndarray, right: np.ndarray, first: int) -> dict[int, _Best]:
        """Per row of the batch that has one, its best duplicate or possible earlier row."""
        if not len(left):
            return {}
        rows = np.unique(np.concatenate([left, right]))
        enc = self._rows.encoded(rows, self._rows_frame_empty)
        lo, hi = np.searchsorted(rows, left), np.searchsorted(rows, right)
        keep = np.flatnonzero(worth_scoring(enc, lo, hi, self.settings))
        if not len(keep):
            return {}
        decisions = decide(compare(decode(enc, lo[keep]), decode(enc, hi[keep])), self.settings)
        rank = ranking(decisions)
        found = np.flatnonzero(decisions.is_match | decisions.possible)
        owners, earlier = left[keep][found], right[keep][found]
        # per row: best rank, then the earliest row
        order = np.lexsort((earlier, -rank[found], owners))
        best: dict[int, _Best] = {}
        for k in order.tolist():
            owner = int(owners[k])
            if owner in best:
                continue
            status = DUPLICATE if bool(decisions.is_match[found[k]]) else POSSIBLE
            best[owner] = _Best(status, float(rank[found[k]]), int(earlier[k]))
        return best
