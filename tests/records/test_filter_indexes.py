"""Each list filter is served by its index, in the list's own order (no sort step)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crmsync.records import filters, service

VALUES = {
    "contact_id": uuid.uuid4(),
    "property_id": uuid.uuid4(),
    "stage": "won",
    "pipeline": "sales",
    "status": "NEW",
    "city": "Porto",
}
CASES = [(t, f.name) for t, specs in filters.FILTERS.items() for f in specs]


@pytest.mark.parametrize(("record_type", "name"), CASES)
def test_a_filtered_page_reads_its_index(db: Session, record_type: str, name: str) -> None:
    stmt = service.list_query(uuid.uuid4(), record_type, filters={name: VALUES[name]})
    sql = str(stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    index = f"ix_{record_type}_{name}_list"
    if db.get_bind().dialect.name == "sqlite":
        plan = db.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        details = " ".join(str(row[-1]) for row in plan)
        assert index in details, details
        assert "TEMP B-TREE" not in details, details  # the index gives the order
    else:
        db.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: make it choose
        plan = db.connection().exec_driver_sql(f"EXPLAIN {sql}").scalars().all()
        details = " ".join(plan)
        assert index in details, details
        assert "Sort" not in details, details
    db.rollback()
