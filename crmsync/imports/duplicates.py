"""DuplicateGuard: the dedup index of one import, over the workspace and the file so far.

Built once per run from the workspace's records (so a resumed run also sees the rows
its earlier batches imported). A row of the file has no record id until its batch is
written: it stands under a provisional key (``row:<number>``), which the writer turns
into the record's id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.quality.dedup import DedupSettings, DuplicateIndex
from crmsync.quality.dedup.prepared import Prepared, prepare
from crmsync.quality.dedup.stream import StreamMatcher
from crmsync.records.payloads import model_for

# Record types with the person fields duplicate detection compares.
DEDUP_TYPES: Final = frozenset({"contacts", "leads"})
# dedup input field -> canonical field
_FIELDS: Final = {
    "email": "email",
    "phone": "phone",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "city": "city",
    "postcode": "postal_code",
    "address": "address_line1",
    "dob": "date_of_birth",
}
_LOAD_CHUNK: Final = 10_000

# what a row matched: duplicate | possible, the record id or row key, the score
Matched = tuple[str, str, float]


def dedup_input(key: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": key}
    for name, canonical in _FIELDS.items():
        value = fields.get(canonical)
        if value is not None:
            out[name] = str(value)
    return out


def _existing(
    session: Session, workspace_id: uuid.UUID, record_type: str
) -> Iterator[dict[str, Any]]:
    model = model_for(record_type)
    columns = [c for c in _FIELDS.values() if hasattr(model, c)]
    stmt = (
        select(model.id, *(getattr(model, c) for c in columns))
        .where(model.workspace_id == workspace_id, model.deleted_at.is_(None))
        .execution_options(yield_per=_LOAD_CHUNK)
    )
    for row in session.execute(stmt):
        yield dedup_input(str(row[0]), dict(zip(columns, row[1:], strict=True)))


class DuplicateGuard:
    """Dedup of one import: each row against the workspace and the file's earlier rows.

    A row's verdict is defined row by row in file order (``StreamMatcher``), so it is the
    same whatever the batch size and wherever the batches are checked (this process or
    the mapping process). The workspace's index is loaded once and not changed during
    the run; the file's rows are remembered by the matcher.
    """

    def __init__(self, index: DuplicateIndex) -> None:
        self.index = index
        self.matcher = StreamMatcher(index)

    @classmethod
    def load(
        cls,
        session: Session,
        workspace_id: uuid.UUID,
        record_type: str,
        settings: DedupSettings | None = None,
    ) -> DuplicateGuard:
        return cls(DuplicateIndex.build(_existing(session, workspace_id, record_type), settings))

    def check_batch(
        self,
        rows: Sequence[tuple[str, Mapping[str, Any]]],
        prepared: pl.DataFrame | None = None,
    ) -> dict[str, Matched]:
        """Key of each row that matched -> (``duplicate`` or ``possible``, key of what,
        score).

        ``prepared`` is the rows' ``dedup_input`` through ``prepare`` when the caller
        made it already (in the mapping process), in the same order. What a row matched
        is an existing record's id, or the key of an earlier row of the file (a row that
        duplicated another stands for what it duplicated).
        """
        if prepared is None:
            inputs = [dedup_input(key, fields) for key, fields in rows]
            prepared = prepare(inputs, self.index.settings.region)
        found: dict[str, Matched] = {}
        keys = [key for key, _fields in rows]
        for key, match in zip(keys, self.matcher.match(Prepared(prepared)), strict=True):
            if match is not None:
                found[key] = (match.status, match.of, round(match.score, 4))
        return found

    def drop(self, key: str) -> None:
        """A held row whose record was not written: rows that matched it fail in the writer
        (``duplicates a row that was not imported``), as they do in the mapping process."""
