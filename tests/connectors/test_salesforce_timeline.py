"""Timeline entries as Salesforce Tasks: the mapping, and writing them to the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from crmsync.connectors.base import Outcome, TimelineEntry
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.salesforce import soql
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.connectors.salesforce.timeline import to_task
from tests.connectors.contract import targets  # noqa: F401  (loads before its salesforce part)
from tests.connectors.contract.salesforce import SalesforceTarget

NOW = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
EAST = timezone(timedelta(hours=5))


@pytest.mark.parametrize(
    ("entry", "task"),
    [
        (
            TimelineEntry("contacts", "003A", "note", NOW, "Call back", "Wants rates"),
            {
                "WhoId": "003A",
                "Subject": "Call back",
                "Description": "Wants rates",
                "Status": "Completed",
                "ActivityDate": "2026-03-04",
                "Type": "Other",
                "TaskSubtype": "Task",
            },
        ),
        (
            TimelineEntry("leads", "00QA", "call_logged", NOW, data={"CallDurationInSeconds": 90}),
            {
                "WhoId": "00QA",
                "Subject": "Call logged",
                "Status": "Completed",
                "ActivityDate": "2026-03-04",
                "Type": "Call",
                "TaskSubtype": "Call",
                "CallDurationInSeconds": 90,
            },
        ),
        (
            # 04:30 on the 5th east of UTC is still the 4th in UTC
            TimelineEntry("deals", "006A", "email_sent", NOW.astimezone(EAST), "x" * 300),
            {
                "WhatId": "006A",
                "Subject": "x" * 255,
                "Status": "Completed",
                "ActivityDate": "2026-03-04",
                "Type": "Email",
                "TaskSubtype": "Email",
            },
        ),
        (
            TimelineEntry("companies", "001A", "meeting_held", NOW, data={"Status": "Deferred"}),
            {
                "WhatId": "001A",
                "Subject": "Meeting held",
                "Status": "Deferred",
                "ActivityDate": "2026-03-04",
                "Type": "Meeting",
                "TaskSubtype": "Task",
            },
        ),
    ],
)
def test_to_task(entry: TimelineEntry, task: dict[str, Any]) -> None:
    assert to_task(entry) == {"attributes": {"type": "Task"}, **task}


def test_an_entry_on_an_object_without_activities_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="not tickets"):
        to_task(TimelineEntry("tickets", "500A", "note", NOW))


@pytest.fixture(scope="module")
def target() -> Iterator[SalesforceTarget]:
    served = SalesforceTarget()
    yield served
    served.stop()


def _tasks(target: SalesforceTarget, field: str, record: str) -> list[dict[str, Any]]:
    token = target.sandbox.org.tokens.default_token
    fields = "Subject, Type, TaskSubtype, Status, WhatId, WhoId"
    where = f"{field} = {soql.quote(record)}"
    answer = httpx.get(
        f"{target.url}/services/data/v59.0/query",
        params={"q": f"SELECT {fields} FROM Task WHERE {where}"},  # noqa: S608  (quoted)
        headers={"Authorization": f"Bearer {token}"},
    )
    answer.raise_for_status()
    return list(answer.json()["records"])


def test_entries_on_deals_and_leads_go_out_200_per_call(target: SalesforceTarget) -> None:
    target.reset()
    connector = target.connector()
    assert isinstance(connector, SalesforceConnector)
    deal = {"Name": "Big one", "StageName": "Prospecting", "CloseDate": "2026-06-30"}
    deal_id = str(connector.upsert("deals", [deal], "Id")[0].remote_id)
    lead_id = str(connector.upsert("leads", [{"LastName": "L", "Company": "C"}], "Id")[0].remote_id)
    calls = [TimelineEntry("deals", deal_id, "call", NOW, f"Call {n}") for n in range(230)]
    before = target.sandbox.usage()[0]
    results = connector.push_timeline([*calls, TimelineEntry("leads", lead_id, "note", NOW)])
    assert target.sandbox.usage()[0] - before == 2
    assert [r.outcome for r in results] == [Outcome.CREATED] * 231
    on_deal = _tasks(target, "WhatId", deal_id)
    assert len(on_deal) == 230
    assert {(t["Type"], t["TaskSubtype"], t["Status"]) for t in on_deal} == {
        ("Call", "Call", "Completed")
    }
    assert [t["Subject"] for t in _tasks(target, "WhoId", lead_id)] == ["Note"]
    connector.close()
