"""Any JSON value the API accepts reads back unchanged through every read path (issue 17).

The paths: ``GET /{id}``, the list, the change log (history), and the sync read the
worker maps and hashes a payload from. On SQLite and PostgreSQL (whose JSONB rewrites
numbers and orders keys). A value outside ``crmsync.jsonlimits`` is refused instead.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.jsonlimits import FLOAT_MAX, INT_MAX, INT_MIN
from crmsync.store.models import ChangeLog
from crmsync.sync.outbound import _records, payload_hash
from tests.conftest import Tenant

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=20,
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(INT_MIN, INT_MAX)
    | st.floats(min_value=-FLOAT_MAX, max_value=FLOAT_MAX, allow_nan=False, allow_infinity=False)
    | _TEXT
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=16,
)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON numbers are, in decimal: PostgreSQL gives 3.2985884370314430e16 back
    as 32985884370314430 (the same decimal number, though not the same double), -0.0 as 0."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return Decimal(repr(a)) == Decimal(repr(b))
    return bool(a == b)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=JSON_VALUES)
def test_an_accepted_value_reads_back_on_every_path(
    client: TestClient, tenant: Tenant, db: Session, value: Any
) -> None:
    custom = {"v": value}
    created = client.post(
        "/api/v1/contacts",
        json={"first_name": "p", "custom_fields": custom},
        headers=tenant.headers(),
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert _same(record["custom_fields"], custom)

    got = client.get(f"/api/v1/contacts/{record['id']}", headers=tenant.headers())
    assert got.status_code == 200, got.text
    assert _same(got.json()["custom_fields"], custom)

    listed = client.get(
        "/api/v1/contacts",
        params={"updated_since": record["updated_at"], "limit": 500},
        headers=tenant.headers(),
    )
    assert listed.status_code == 200, listed.text
    [item] = [i for i in listed.json()["items"] if i["id"] == record["id"]]
    assert _same(item["custom_fields"], custom)

    record_id = uuid.UUID(record["id"])
    db.expire_all()
    history = db.scalars(select(ChangeLog).where(ChangeLog.record_id == record_id)).all()
    # a create is logged field by field, or as one "*" row holding every field
    [logged] = [
        h.new_value["custom_fields"] if h.field == "*" else h.new_value
        for h in history
        if h.field in ("*", "custom_fields")
    ]
    assert _same(logged, custom)

    synced = _records(db, "contacts", [record_id], frozenset({"custom_fields"}))[record_id]
    assert _same(synced["custom_fields"], custom)
    assert len(payload_hash(synced)) == 64  # the worker can hash (serialise) what it read
    db.rollback()


@pytest.mark.parametrize(
    "value",
    [2**63, -(2**63) - 1, 2.0**63, -9.223372036854776e18, 1.5e18, -1e300, "a\x00", {"k\x00": 1}],
)
def test_a_value_outside_the_limits_is_refused(
    client: TestClient, tenant: Tenant, value: Any
) -> None:
    import json

    body = json.dumps({"first_name": "p", "custom_fields": {"v": value}})
    answer = client.post(
        "/api/v1/contacts",
        content=body.encode("utf-8", "surrogatepass"),
        headers={**tenant.headers(), "content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
