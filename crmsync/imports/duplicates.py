"""DuplicateGuard: the dedup index of one import, over the workspace and the file so far.

Built once per run from the workspace's records (so a resumed run also sees the rows
its earlier batches imported), then fed each accepted row. A row accepted in the
current batch has no record id yet: it is indexed under a provisional key and confirmed
with its id once the batch is written. A batch is checked against the index in one
``duplicate_ids``, and against itself with ``find_duplicates``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.quality.dedup import DedupSettings, DuplicateIndex, find_duplicates
from crmsync.quality.dedup.prepared import Prepared, prepare
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
    def __init__(self, index: DuplicateIndex) -> None:
        self.index = index

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
    ) -> dict[str, str]:
        """Key of each duplicate row -> key of what it duplicates; the others get indexed.

        ``prepared`` is the rows' ``dedup_input`` through ``prepare`` when the caller
        made it already (in the mapping process), in the same order.

        A row duplicates an indexed record (or an earlier batch's row), else the first
        row of its cluster within this batch. Rows that duplicate nothing are indexed
        under their provisional keys, all at once, until their records exist.
        """
        found: dict[str, str] = {}
        if prepared is None:
            inputs = [dedup_input(key, fields) for key, fields in rows]
            prepared = prepare(inputs, self.index.settings.region)
        # prepared once: the checks, the clustering and the indexing take row subsets.
        # The batch's rows are indexed only below, so each is checked against the index
        # alone, exactly as one check() per row would; duplicate_ids scores them together.
        keys = [key for key, _fields in rows]
        of_index = self.index.duplicate_ids(Prepared(prepared))
        for key, duplicate_of in zip(keys, of_index, strict=True):
            if duplicate_of is not None:
                found[key] = duplicate_of
        fresh = prepared.filter(pl.Series([d is None for d in of_index], dtype=pl.Boolean))
        if fresh.height > 1:
            order = {key: i for i, key in enumerate(fresh["id"].to_list())}
            for ids in find_duplicates(Prepared(fresh), self.index.settings).id_groups():
                first, *rest = sorted(ids, key=order.__getitem__)
                found.update(dict.fromkeys(rest, first))
        unique = [key not in found for key in fresh["id"].to_list()]
        self.index.add_many(Prepared(fresh.filter(pl.Series(unique, dtype=pl.Boolean))))
        return found

    def drop(self, key: str) -> None:
        """Forget a held row whose record was not written."""
        self.index.remove(key)
