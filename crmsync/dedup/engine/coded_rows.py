"""The rows of a DuplicateIndex as integer codes that grow with it, for batch checks.

A batch check scores each candidate against ~50 indexed rows. Coding those rows again
for every batch (as ``encode`` does for a list) cost more than scoring them once the
index held 100,000 rows, so the index keeps every row's codes, and one dictionary of
values per column that only ever grows: a batch's ``Encoded`` is then the codes of its
pairs' rows, gathered, plus its candidates', looked up.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
import polars as pl

from crmsync.dedup.engine.encoded import Encoded

_MIN_CAPACITY = 1024
# the prepared columns that are numbers, kept as they are
_NUMBERS = ("dob_days", "namesakes")
# what codes as missing (-1)
_MISSING: dict[str | None, int] = {"": -1, None: -1}
# what a value not coded yet looks up as, for a moment
_UNKNOWN = -2


def _grown(array: np.ndarray, size: int, keep: int, last: Any = None) -> np.ndarray:
    """A larger copy of ``array`` with its first ``keep`` items; ``last`` in its last slot."""
    out = np.empty(max(size, 2 * len(array), _MIN_CAPACITY), dtype=array.dtype)
    out[:keep] = array[:keep]
    if last is not None:
        out[-1] = last
    return out


class ValueCodes:
    """The integer code of every value of one column seen so far; "" is missing (-1).

    ``values[code]`` is the value, and ``values[-1]`` is "", as in ``Encoded``: the last
    slot of the array is kept for it while the array grows.
    """

    def __init__(self, values: np.ndarray, initials: bool = False) -> None:
        distinct = values[:-1].tolist()  # an Encoded column's values end with its ""
        self.count = len(distinct)
        self._code: dict[str | None, int] = dict(zip(distinct, range(self.count), strict=True))
        self._code.update(_MISSING)
        self.values = _grown(np.empty(0, dtype=object), self.count + 1, 0, "")
        self.values[: self.count] = distinct
        self.initials: np.ndarray | None = None
        if initials:  # code point of each value's first character, -1 for missing
            self.initials = _grown(np.empty(0, dtype=np.int64), self.count + 1, 0, -1)
            self.initials[: self.count] = [ord(v[0]) for v in distinct]

    def codes(self, column: list[str]) -> np.ndarray:
        """The codes of ``column``'s values, new values given new codes (in first-seen order)."""
        code = self._code  # "" and None are -1 (``_MISSING``)
        found = np.fromiter(
            map(code.get, column, repeat(_UNKNOWN)), dtype=np.int32, count=len(column)
        )
        unknown = np.flatnonzero(found == _UNKNOWN).tolist()
        if unknown:
            values = [column[at] for at in unknown]
            self._add(list(dict.fromkeys(values)))
            found[unknown] = list(map(code.__getitem__, values))
        return found

    def _add(self, new: list[str]) -> None:
        at, end = self.count, self.count + len(new)
        if end + 1 >= len(self.values):
            self.values = _grown(self.values, end + 2, at, "")
            if self.initials is not None:
                self.initials = _grown(self.initials, len(self.values), at, -1)
        self.values[at:end] = new
        if self.initials is not None:
            self.initials[at:end] = [ord(value[0]) for value in new]
        self._code.update(zip(new, range(at, end), strict=True))
        self.count = end


class CodedRows:
    """Every indexed row (by row number) as codes, ids and numbers; rows are only added."""

    def __init__(self, base: Encoded) -> None:
        self.height = len(base.codes["id"])
        names = [name for name in base.codes if name != "id"]
        self._values = {
            n: ValueCodes(base.values[n], initials=n in ("first", "last")) for n in names
        }
        # per row: a code for each coded column, the id, and the two number columns
        self._rows: dict[str, np.ndarray] = {n: base.codes[n].astype(np.int32) for n in names}
        self._rows["id"] = base.values["id"][:-1].astype(object)
        self._rows["dob_days"] = base.dob_days.copy()
        self._rows["namesakes"] = base.namesakes.copy()
        self._positions = np.empty(0, dtype=np.int32)

    @classmethod
    def sharing(cls, other: CodedRows) -> CodedRows:
        """No rows yet, coded in ``other``'s dictionaries (which both then grow): a frame's
        ``codes`` serve both, so a batch that goes into both is looked up once."""
        rows = cls.__new__(cls)
        rows.height = 0
        rows._values = other._values
        rows._rows = {name: array[:0].copy() for name, array in other._rows.items()}
        rows._positions = np.empty(0, dtype=np.int32)
        return rows

    def shares_values_with(self, other: CodedRows) -> bool:
        return self._values is other._values

    def codes(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        """The codes of a prepared frame's coded columns (new values get new codes)."""
        return {n: coder.codes(frame[n].to_list()) for n, coder in self._values.items()}

    def append(self, frame: pl.DataFrame, codes: dict[str, np.ndarray] | None = None) -> None:
        """Rows of a prepared frame, as the next row numbers (``codes``: the frame's
        ``codes`` in these dictionaries, when the caller has them)."""
        end = self.height + frame.height
        added = dict(codes) if codes is not None else self.codes(frame)
        added["id"] = frame["id"].to_numpy().astype(object)
        for name in _NUMBERS:
            added[name] = frame[name].to_numpy().astype(np.float64)
        for name, values in added.items():
            if end > len(self._rows[name]):
                self._rows[name] = _grown(self._rows[name], end, self.height)
            self._rows[name][self.height : end] = values
        self.height = end

    def whole(self) -> Encoded:
        """Every row so far, coded, with its row number as its position: pairs of rows
        index it directly, with nothing gathered or coded again (the id's code is the row
        number; the arrays' slots past ``height`` are not rows)."""
        if len(self._positions) < len(self._rows["id"]):
            self._positions = np.arange(len(self._rows["id"]), dtype=np.int32)
        codes = {name: self._rows[name] for name in self._values}
        codes["id"] = self._positions
        values = {name: coder.values for name, coder in self._values.items()}
        values["id"] = self._rows["id"]
        return Encoded(
            codes,
            values,
            self._rows["dob_days"],
            self._rows["namesakes"],
            given_initials=self._initials(),
        )

    def _initials(self) -> dict[str, np.ndarray]:
        return {
            name: coder.initials
            for name, coder in self._values.items()
            if coder.initials is not None
        }

    def value(self, row: int, name: str) -> Any:
        return self._values[name].values[self._rows[name][row]]

    def decode(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The prepared columns of ``rows`` as object (and float) arrays, like ``decode``."""
        out = {n: coder.values[self._rows[n][rows]] for n, coder in self._values.items()}
        out.update((name, self._rows[name][rows]) for name in ("id", *_NUMBERS))
        return out

    def encoded(
        self,
        rows: np.ndarray,
        candidates: pl.DataFrame,
        candidate_codes: dict[str, np.ndarray] | None = None,
    ) -> Encoded:
        """``rows`` (positions 0..len-1) followed by the candidates' rows, coded together
        (``candidate_codes``: the candidates' ``codes``, when the caller has them).

        A value only the candidates have gets its code here for good: a later batch's
        rows may well have it too.
        """
        if candidate_codes is None:
            candidate_codes = self.codes(candidates)
        codes: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}
        for name, coder in self._values.items():
            looked_up = candidate_codes[name]
            codes[name] = np.concatenate([self._rows[name][rows], looked_up])
            values[name] = coder.values
        ids = np.concatenate([self._rows["id"][rows], candidates["id"].to_numpy().astype(object)])
        codes["id"] = np.arange(len(ids), dtype=np.int32)
        values["id"] = np.append(ids, "")
        numbers = {
            name: np.concatenate([self._rows[name][rows], candidates[name].to_numpy()])
            for name in _NUMBERS
        }
        return Encoded(
            codes,
            values,
            numbers["dob_days"],
            numbers["namesakes"],
            given_initials=self._initials(),
        )
