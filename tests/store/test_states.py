"""Stored states are the enums' values, and the code spells them only through the enums.

The state columns stay strings; what keeps them to one vocabulary is that every value
written or compared comes from the model's status enum (``STATES`` below). These tests read
the database the migrations built (its partial indexes compare statuses too) and the source
(no SQL comparison or write of these columns, no model constructed with a status, no
``row.status = ...`` and no comparison of a row annotated as one of these models spells a
state as a string).
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, String, text

from crmsync.integrations.schemas import IntegrationPatch
from crmsync.store.models import (
    Alert,
    AlertStatus,
    AutomationRun,
    AutomationRunStatus,
    BusSource,
    BusSourceStatus,
    Conflict,
    ConflictStatus,
    DeliveryStatus,
    DuplicateReview,
    Enrollment,
    EnrollmentStatus,
    ImportJob,
    ImportStatus,
    Integration,
    IntegrationStatus,
    ObjectSyncStatus,
    ReviewStatus,
    SyncJob,
    SyncJobStatus,
    SyncObjectState,
    SyncRun,
    SyncRunStatus,
    WebhookDelivery,
)
from crmsync.sync.conflicts import Resolution

STATES: dict[type[Any], type[StrEnum]] = {
    SyncJob: SyncJobStatus,
    SyncRun: SyncRunStatus,
    ImportJob: ImportStatus,
    Integration: IntegrationStatus,
    BusSource: BusSourceStatus,
    Conflict: ConflictStatus,
    WebhookDelivery: DeliveryStatus,
    AutomationRun: AutomationRunStatus,
    Enrollment: EnrollmentStatus,
    Alert: AlertStatus,
    SyncObjectState: ObjectSyncStatus,
    DuplicateReview: ReviewStatus,
}
ROOT = Path(__file__).resolve().parents[2] / "crmsync"
ALL_VALUES = {state.value for enum in STATES.values() for state in enum}
# Other columns spelled only through their enum: (attribute, its values).
STATUS = ("status", frozenset(ALL_VALUES))
RESOLUTION = ("resolution", frozenset(r.value for r in Resolution))  # Conflict.resolution


@pytest.mark.parametrize("model", STATES, ids=lambda m: m.__name__)
def test_the_status_column_holds_every_value_and_defaults_to_one(model: type[Any]) -> None:
    enum = STATES[model]
    column = model.__table__.c.status
    assert isinstance(column.type, String)
    assert max(len(s.value) for s in enum) <= column.type.length
    assert column.default.arg in set(enum)


def test_the_partial_indexes_of_the_migrated_database_name_job_states(engine: Engine) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'sync_jobs'")
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE schemaname = current_schema() AND tablename = 'sync_jobs'"
                )
            )
        where = {name: sql.split("WHERE", 1)[1] for name, sql in rows if sql and "WHERE" in sql}
    assert set(where) == {"uq_sync_jobs_pending", "uq_sync_jobs_running"}
    named = {name: re.findall(r"'([a-z_]+)'", clause) for name, clause in where.items()}
    assert named == {"uq_sync_jobs_pending": ["pending"], "uq_sync_jobs_running": ["running"]}
    assert {v for values in named.values() for v in values} <= {s.value for s in SyncJobStatus}


@pytest.mark.parametrize("model", STATES, ids=lambda m: m.__name__)
def test_the_partial_indexes_of_the_models_name_their_states(model: type[Any]) -> None:
    for index in model.__table__.indexes:
        where = index.dialect_options["sqlite"]["where"]
        if where is not None and "status" in str(where):
            assert set(re.findall(r"'([a-z_]+)'", str(where))) <= {s.value for s in STATES[model]}
            assert str(where) == str(index.dialect_options["postgresql"]["where"])


def test_the_models_partial_indexes_are_the_migrated_ones() -> None:
    where = {
        index.name: str(index.dialect_options["sqlite"]["where"])
        for index in SyncJob.__table__.indexes
        if index.dialect_options["sqlite"]["where"] is not None
    }
    assert where == {
        "uq_sync_jobs_pending": "status = 'pending'",
        "uq_sync_jobs_running": "status = 'running'",
    }


def test_the_api_offers_exactly_the_stored_states(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["SyncJobStatus"]["enum"] == [s.value for s in SyncJobStatus]
    assert schemas["SyncJobOut"]["properties"]["status"] == {
        "$ref": "#/components/schemas/SyncJobStatus"
    }
    patchable = IntegrationPatch.model_json_schema()["properties"]["status"]["anyOf"][0]["enum"]
    assert set(patchable) <= {s.value for s in IntegrationStatus}


@pytest.mark.parametrize(
    ("path", "enum", "answer"),
    [
        ("/api/v1/sources", BusSourceStatus, "SourceOut"),
        ("/api/v1/conflicts", ConflictStatus, "ConflictOut"),
        ("/api/v1/alerts", AlertStatus, None),
        ("/api/v1/webhook-endpoints/{endpoint_id}/deliveries", DeliveryStatus, None),
        ("/api/v1/contacts/duplicates", ReviewStatus, None),
    ],
)
def test_the_api_names_these_states_by_their_enum(
    app: FastAPI, path: str, enum: type[StrEnum], answer: str | None
) -> None:
    """The answers (and the ``status`` filters) offer exactly the stored states."""
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    assert schemas[enum.__name__]["enum"] == [s.value for s in enum]
    ref = {"$ref": f"#/components/schemas/{enum.__name__}"}
    if answer is not None:
        assert schemas[answer]["properties"]["status"] == ref
    parameters = spec["paths"][path]["get"].get("parameters", [])
    filters = [p["schema"] for p in parameters if p["name"] == "status"]
    if path != "/api/v1/sources":  # the others filter by status
        assert ref in filters[0]["anyOf"]


# -- the source ----------------------------------------------------------------------


def _models_and_aliases(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names standing for a state-bearing model (``aliased(SyncJob)``), its table, or one of
    its rows (``source: BusSource``, ``run = AutomationRun(...)``)."""
    models = {m.__name__ for m in STATES}
    tables: set[str] = set()
    for node in ast.walk(tree):
        annotation = getattr(node, "annotation", None)
        if isinstance(node, ast.arg | ast.AnnAssign) and annotation is not None:
            typed = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
            typed |= {  # a quoted annotation: 'Conflict | None'
                word
                for n in ast.walk(annotation)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
                for word in re.findall(r"\w+", n.value)
            }
            if typed & {m.__name__ for m in STATES}:
                target = node.arg if isinstance(node, ast.arg) else node.target
                if isinstance(target, str):
                    models.add(target)
                elif isinstance(target, ast.Name):
                    models.add(target.id)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            attrs = {n.attr for n in ast.walk(node.value) if isinstance(n, ast.Attribute)}
            if names & models and ("aliased" in names or isinstance(node.value, ast.Name)):
                models.add(node.targets[0].id)  # _twin = aliased(SyncJob); _S = SyncJob
            elif (
                isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id in {m.__name__ for m in STATES}
            ):
                models.add(node.targets[0].id)  # run = AutomationRun(...)
            elif names & models and "__table__" in attrs:
                tables.add(node.targets[0].id)
    return models, tables


def _is_status_of(node: ast.AST, models: set[str], tables: set[str], column: str) -> bool:
    if not (isinstance(node, ast.Attribute) and node.attr == column):
        return False
    owner = node.value
    if isinstance(owner, ast.Name):
        return owner.id in models
    # _JOBS.c.status
    return (
        isinstance(owner, ast.Attribute)
        and owner.attr == "c"
        and isinstance(owner.value, ast.Name)
        and owner.value.id in tables
    )


def _literals(node: ast.AST, constants: dict[str, ast.AST], values: frozenset[str]) -> list[str]:
    """State strings in ``node``, or in the module constants it names (``_OPEN``)."""
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in values:
            found.append(n.value)
        elif isinstance(n, ast.Name) and n.id in constants:
            found += _literals(constants.pop(n.id), constants, values)  # popped: no cycles
    return found


def _constants(tree: ast.Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            out[node.target.id] = node.value
    return out


def _writes_state(call: ast.Call, owners: set[str]) -> bool:
    """``SyncJob(...)``, or ``.values(...)`` of an ``update``/``insert`` of one of them."""
    if isinstance(call.func, ast.Name):
        return call.func.id in owners
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "values"):
        return False
    chain: ast.AST = call.func.value
    while isinstance(chain, ast.Call | ast.Attribute):
        if isinstance(chain, ast.Call) and isinstance(chain.func, ast.Name):
            first = chain.args[0] if chain.args else None
            return isinstance(first, ast.Name) and first.id in owners
        chain = chain.func if isinstance(chain, ast.Call) else chain.value
    return False


def _spelled_states(source: str, column: tuple[str, frozenset[str]] = STATUS) -> list[str]:
    """``Model.status == "pending"``, ``Model.status.in_(("pending",))``,
    ``Model(status="pending")`` and ``.values(status="pending")`` on the tables above."""
    name, values = column
    tree = ast.parse(source)
    models, tables = _models_and_aliases(tree)
    constants = _constants(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_status_of(side, models, tables, name) for side in sides):
                found += _literals(node, dict(constants), values)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "in_"
            and _is_status_of(node.func.value, models, tables, name)
        ):
            found += [v for arg in node.args for v in _literals(arg, dict(constants), values)]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == name
            for target in node.targets
            for t in (target.elts if isinstance(target, ast.Tuple) else [target])
        ):
            # ``run.status = "done"``, ``row.status, row.error = "failed", ...``: a row's
            # state written in Python, whatever names the row
            found += _literals(node.value, dict(constants), values)
        if isinstance(node, ast.Call) and _writes_state(node, models | tables):
            found += [
                v
                for k in node.keywords
                if k.arg == name
                for v in _literals(k, dict(constants), values)
            ]
    return found


@pytest.mark.parametrize("column", [STATUS, RESOLUTION], ids=lambda c: c[0])
def test_no_module_spells_a_stored_state_as_a_string(column: tuple[str, frozenset[str]]) -> None:
    paths = [p for p in ROOT.rglob("*.py") if "migrations" not in p.parts]  # frozen history
    spelled = {
        f"{p.relative_to(ROOT.parent)}: {value}"
        for p in paths
        for value in _spelled_states(p.read_text(encoding="utf-8"), column)
    }
    assert sorted(spelled) == []


def test_the_source_check_sees_a_spelled_resolution() -> None:
    code = (
        "def h(row: Conflict) -> None:\n"
        "    row.status, row.resolution = ConflictStatus.RESOLVED, 'agreed'\n"
        "    if row.resolution == 'local': ...\n"
        "    c = Conflict(resolution='custom', status=ConflictStatus.OPEN)\n"
        "    row.resolution = Resolution.REMOTE\n"
    )
    assert sorted(_spelled_states(code, RESOLUTION)) == ["agreed", "custom", "local"]
    assert _spelled_states(code) == []


def test_the_source_check_sees_a_spelled_state() -> None:
    code = (
        "_twin = aliased(SyncJob)\n"
        "_JOBS = cast(Table, SyncJob.__table__)\n"
        "a = SyncJob.status == 'pending'\n"
        "b = _twin.status.in_(('running', 'dead'))\n"
        "c = update(_JOBS).where(_JOBS.c.status == 'pending').values(status='running')\n"
        "d = Integration(status='connected')\n"
        "f = update(WebhookDelivery).values(status='dead')\n"
        "_OPEN = ('failed',)\n"
        "g = SyncJob.status.in_(_OPEN)\n"
        "e = SyncJob.status == SyncJobStatus.PENDING\n"
        "def h(source: BusSource, other: 'Conflict | None') -> None:\n"
        "    if source.status in ('running', 'paused'): ...\n"
        "    if other.status != 'open': ...\n"
        "    row.status, row.error = 'resolved', None\n"
        "    run = AutomationRun(status=AutomationRunStatus.RUNNING)\n"
        "    i = run.status == 'done'\n"
        "    k = other.status == OTHER.status\n"
        "_S = SyncObjectState\n"
        "m = update(_S).values(status='failing')\n"
    )
    spelled = _spelled_states(code)
    assert sorted(spelled) == [
        "connected",
        "dead",
        "dead",
        "done",
        "failed",
        "failing",
        "open",
        "paused",
        "pending",
        "pending",
        "resolved",
        "running",
        "running",
        "running",
    ]
