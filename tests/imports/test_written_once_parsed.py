"""The shortcuts of an import (fields parsed once, clean rows judged whole, names and
phones decided without parsing, a batch coerced and checked a column at a time) write and
answer what the long way does.

The cells are messy on purpose: spaces to collapse, upper-case names, non-ASCII text,
formula apostrophes, invisible characters, bad e-mails and phones, empty cells.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports import mapped, rowmap
from crmsync.imports.readers import open_table
from crmsync.imports.rowmap import RowMapper
from crmsync.imports.rowrules import RowRules
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import count_rows
from crmsync.mapping.engine import CompiledMapping
from crmsync.quality import batch_phone
from crmsync.quality.batch_phone import normalize_phones
from crmsync.quality.cleansing_names import _capitalise_name, capitalise_name
from crmsync.quality.normalize import normalize_phone
from crmsync.records.payloads import parse_fields
from crmsync.store.models import ChangeLog, Contact
from crmsync.store.models.imports import ImportRow
from tests.conftest import Tenant
from tests.imports.conftest import MakeJob

COLUMNS = {
    "ref": "external_ref",
    "first": "first_name",
    "last": "last_name",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "city": "city",
}
CELLS = {
    "first": ["john", "JOHN", "John", " John ", "jo  hn", "Zoë", "'=John", "", "MARY-JANE"],
    "last": ["smith", "O'NEIL", "van der berg", "Smith", "Sm\u200bith", "", "McDonald"],
    "email": ["j.smith@acme.com", " J.Smith@Acme.com ", "bad at acme.com", "", "m@x.example"],
    "phone": ["4155550100", "(415) 555-0100", "+14155550100", "12-34", "", "+44 20 7946 0958"],
    "company": ["Acme", "acme  inc", "", "Ünïcode Co", "'=SUM(A1)", "Acme\tCorp"],
    "city": ["Austin", " Austin", "", "Zürich", "New  York"],
}
ROWS = st.lists(
    st.tuples(*(st.integers(0, len(CELLS[c]) - 1) for c in CELLS), st.booleans()),
    min_size=1,
    max_size=25,
)


def _csv(rows: list[tuple[Any, ...]]) -> str:
    lines = [",".join(COLUMNS)]
    for n, (*picks, with_ref) in enumerate(rows):
        cells = [CELLS[c][p] for c, p in zip(CELLS, picks, strict=True)]
        ref = f"r{n}" if with_ref else ""
        lines.append(",".join(json.dumps(v) if "," in v or '"' in v else v for v in [ref, *cells]))
    return "\n".join(lines) + "\n"


def _written(sessions: sessionmaker[Session], workspace: uuid.UUID, job_id: uuid.UUID) -> Any:
    """The records written (their fields, named by ref or e-mail), what their ChangeLog
    says of them (the create row's values with the later changes laid over them: a row
    updating one of the same batch folds into its create row, by design) and the rows
    that did not become records."""
    with sessions() as session:
        contacts = session.scalars(select(Contact).where(Contact.workspace_id == workspace)).all()
        columns = [c.key for c in Contact.__table__.columns]  # type: ignore[attr-defined]
        skip = {"id", "workspace_id", "created_at", "updated_at", "version"}
        records = sorted(
            json.dumps({k: getattr(c, k) for k in columns if k not in skip}, default=str)
            for c in contacts
        )
        name = {c.id: c.external_ref or str(c.email) for c in contacts}
        logged: dict[str, dict[str, Any]] = {}
        stmt = select(ChangeLog).where(ChangeLog.workspace_id == workspace)
        for change in session.scalars(stmt.order_by(ChangeLog.id)):
            state = logged.setdefault(name[change.record_id], {})
            if change.field == "*":
                state.update(change.new_value)
            elif change.new_value is None:
                state.pop(change.field, None)
            else:
                state[change.field] = change.new_value
        failed = sorted(
            (r.row_number, r.outcome, json.dumps(r.errors))
            for r in session.scalars(select(ImportRow).where(ImportRow.job_id == job_id))
        )
        return records, sorted(json.dumps(v, sort_keys=True) for v in logged.values()), failed


# no shrinking: each example runs six imports
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(rows=ROWS, on_duplicate=st.sampled_from(["skip", "update"]), keep=st.booleans())
def test_an_import_writes_what_it_wrote_parsing_every_row_again(
    sessions: sessionmaker[Session],
    make_tenant: Callable[[], Tenant],
    make_job: MakeJob,
    limits: ImportSettings,
    rows: list[tuple[Any, ...]],
    on_duplicate: str,
    keep: bool,
) -> None:
    """With the shortcuts off (every row coerced alone, every field rule run on it and
    parsed by the records service in the mapping and again in the writer, no phone taken
    as known, no e-mail address handed over as normalised), at every batch size, the
    same records, ChangeLog and failed rows."""
    text = _csv(rows)
    for batch_size in (1, 4, 500):
        written = []
        for shortcuts in (True, False):
            tenant = make_tenant()
            job_id = make_job(
                tenant.id,
                text,
                COLUMNS,
                batch_size=batch_size,
                on_duplicate=on_duplicate,
                keep_invalid=keep,
            )
            with ExitStack() as stack:
                if not shortcuts:
                    stack.enter_context(patch.object(RowRules, "_parse", _parse_unflagged))
                    stack.enter_context(patch.object(batch_phone, "known_e164s", _none))
                    stack.enter_context(patch.object(mapped, "normal_emails", _no_emails))
                    stack.enter_context(patch.object(RowRules, "field_checks_for", _all_checks))
                    stack.enter_context(patch.object(CompiledMapping, "apply_batch", _by_row))
                assert run_import(sessions, job_id, limits=limits) == "completed"
            written.append(_written(sessions, tenant.id, job_id))
        assert written[0] == written[1], batch_size


_original_parse = RowRules._parse


def _parse_unflagged(
    self: RowRules, fields: dict[str, Any], problems: list[Any], plain: bool = False
) -> bool:
    _original_parse(self, fields, problems, False)
    return False


def _by_row(self: CompiledMapping, records: Any, region: str = "US") -> list[Any]:
    return [self.apply(record, region) for record in records]


def _none(_values: set[str]) -> set[str]:
    return set()


def _no_emails(_values: Any) -> list[str]:
    return []  # the writer normalises every e-mail address again


def _all_checks(self: RowRules, _rows: Any) -> Any:
    return self._field_checks


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, keep=st.booleans(), validate=st.booleans())
def test_mapped_fields_flagged_parsed_are_parse_fields_own_answer(
    rows: list[tuple[Any, ...]], keep: bool, validate: bool
) -> None:
    mapper = RowMapper("contacts", COLUMNS, keep_invalid=keep, validate=validate)
    for n, (*picks, with_ref) in enumerate(rows):
        values = {c: CELLS[c][p] for c, p in zip(CELLS, picks, strict=True)}
        values["ref"] = f"r{n}" if with_ref else ""
        mapped = mapper.map(values)
        if mapped.parsed:
            again = parse_fields("contacts", mapped.fields)
            assert again == mapped.fields
            assert list(again) == list(mapped.fields)  # the order the ChangeLog keeps


@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.text(max_size=12), max_size=3))
def test_a_row_judged_clean_whole_is_one_each_cell_keeps(values: dict[str, str]) -> None:
    if rowmap._clean_already(values):
        assert {k: rowmap._cleanse(v) for k, v in values.items()} == values


@given(st.text(max_size=20))
def test_a_cell_cleansed_on_the_short_path_is_cleansed_as_on_the_long_one(value: str) -> None:
    long_way = " ".join(rowmap.strip_invisible(value).split())
    if long_way.startswith(rowmap.NEUTRALISED):
        long_way = long_way[1:]
    assert rowmap._cleanse(value) == long_way


@given(st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=20))
def test_names_decided_without_the_cache_are_capitalised_alike(value: str) -> None:
    assert capitalise_name(value) == _capitalise_name(value)


def test_known_e164_phones_answer_as_a_parse_would() -> None:
    raw = [f"(415) 555-{n:04d}" for n in range(100)] + ["+44 20 7946 0958", "12-34"]
    first = normalize_phones(raw, "US")  # decided in bulk: the E.164 answers are now known
    e164 = [v for v in first.values() if v]
    again = normalize_phones([*e164, "+33 1 42 68 53 00"], "US")
    assert again == {v: normalize_phone(v, "US") for v in [*e164, "+33 1 42 68 53 00"]}
    assert all(again[v] == v for v in e164)


def test_rows_are_counted_as_the_reader_gives_them(tmp_path: Path, limits: ImportSettings) -> None:
    text = (
        "Leads report\n\nref,first,last\nr0,Ann,Lee\n\n , ,\n"
        'r1,"Bo\nBo",Ng\nr2,Cy\nr3,Di,Ho,extra\n,,\n'
    )
    path = tmp_path / "leads.csv"
    path.write_text(text)
    reader = open_table(path, path.name, limits)
    assert count_rows(reader) == len(list(reader.rows())) == 4
