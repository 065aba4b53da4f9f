"""DuplicateGuard: the dedup index of one import, over the workspace and the file so far.

Built once per run from the workspace's records (so a resumed run also sees the rows
its earlier batches imported). A row of the file has no record id until its batch is
written: it stands under a provisional key (``row:<number>``), which the writer turns
into the record's id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.dedup.engine import DedupSettings, DuplicateIndex
from crmsync.dedup.engine.prepared import Prepared, prepare
from crmsync.dedup.engine.stream import StreamMatcher
from crmsync.records.payloads import model_for, reference_fields
from crmsync.store.engine import make_engine, make_sessionmaker

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


@dataclass(frozen=True)
class GuardSource:
    """Where another process loads an import's guard from: its database and workspace."""

    database_url: str
    workspace_id: str
    record_type: str
    settings: dict[str, Any]

    def load(self) -> DuplicateGuard:
        engine = make_engine(self.database_url)
        try:
            with make_sessionmaker(engine)() as session:
                return DuplicateGuard.load(
                    session,
                    uuid.UUID(self.workspace_id),
                    self.record_type,
                    DedupSettings.model_validate(self.settings),
                )
        finally:
            engine.dispose()


def source_for_second_process(
    session_factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    record_type: str,
    targets: Iterable[str | None],
    settings: DedupSettings,
) -> GuardSource | None:
    """How the import's mapping process may hold the guard, or None when only the importing
    process may: the rows set a reference (``targets`` are the mapped fields) that the
    records service checks in the database, so a row it refuses must leave the index; or
    the database lives only in this process.

    This is the one place that decides which process checks an import's duplicates.
    """
    references = reference_fields(record_type)
    if any(target in references for target in targets):
        return None
    engine = session_factory.kw.get("bind")
    if not isinstance(engine, Engine) or engine.url.database in (None, "", ":memory:"):
        return None
    if str(engine.url.database).startswith("file:"):
        return None
    return GuardSource(
        database_url=engine.url.render_as_string(hide_password=False),
        workspace_id=str(workspace_id),
        record_type=record_type,
        settings=settings.model_dump(),
    )
