"""Real-shaped exports through preview, then import, over the API: the preview tells the truth.

For each export the preview is asked twice, as a user would: once to get the suggested
mapping and value maps, once more with them. The import then runs with exactly those
choices, and the rows it fails (or skips as duplicates) are exactly the ones the preview
said it would: no row fails on something the preview called fine.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from tests.conftest import Tenant
from tests.imports.exports import EXPORTS
from tests.imports.test_api import BASE, wait

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402


def _form(options: dict[str, Any], **json_fields: Any) -> dict[str, Any]:
    form = {k: str(v) for k, v in options.items()}
    form.update({k: orjson.dumps(v).decode() for k, v in json_fields.items() if v is not None})
    return form


def _post(api: TestClient, tenant: Tenant, url: str, path: Path, form: dict[str, Any]) -> Any:
    answer = api.post(
        url, files={"file": (path.name, path.read_bytes())}, data=form, headers=tenant.headers()
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _lines(api: TestClient, tenant: Tenant, job_id: str, outcome: str) -> list[int]:
    answer = api.get(f"{BASE}/{job_id}/rows", params={"outcome": outcome}, headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    return [item["line"] for item in answer.json()["items"]]


@pytest.mark.parametrize("name", list(EXPORTS))
def test_no_row_fails_on_what_the_preview_called_fine(
    api: TestClient, imports_app: FastAPI, tenant: Tenant, tmp_path: Path, name: str
) -> None:
    path, options = EXPORTS[name](tmp_path)
    first = _post(api, tenant, f"{BASE}/preview", path, _form(options))
    mapping, value_maps = first["mapping"], first["suggested_value_maps"]
    confirmed = _post(
        api, tenant, f"{BASE}/preview", path,
        _form(options, mapping=mapping, value_maps=value_maps or None),
    )  # fmt: skip
    # what the preview says about the columns it called fine holds for every sampled row
    fine = {c["header"] for c in confirmed["columns"] if c["status"] == "ok"}
    assert confirmed["mapping"] == mapping
    job = _post(
        api, tenant, BASE, path,
        _form(options | {"start": "true"}, mapping=mapping, value_maps=value_maps or None),
    )  # fmt: skip
    wait(imports_app, job["id"])
    failed = _lines(api, tenant, job["id"], "failed")
    assert failed == confirmed["failing_lines"]
    assert _lines(api, tenant, job["id"], "duplicate") == [
        d["line"] for d in confirmed["duplicates"]
    ]
    report = api.get(f"{BASE}/{job['id']}/outcomes.csv", headers=tenant.headers())
    rows = list(csv.DictReader(io.StringIO(report.text.removeprefix("\ufeff"))))
    assert len(rows) == confirmed["sample"]["rows"]
    for row in rows:
        assert row["import_outcome"] in ("created", "updated", "duplicate", "failed"), row
        if row["import_outcome"] == "failed":
            # a failed row names a column the preview flagged, or a problem of the whole row
            reasons = row["import_reasons"]
            assert not any(reasons.startswith(f"{header}:") for header in fine), reasons
        else:
            assert row["import_record_id"], row


def test_the_preview_maps_and_suggests_like_a_person_would(
    api: TestClient, tenant: Tenant, tmp_path: Path
) -> None:
    path, options = EXPORTS["salesforce_report"](tmp_path)
    body = _post(api, tenant, f"{BASE}/preview", path, _form(options))
    assert body["file_warnings"] == ["the header is on line 4; the 2 rows above it are skipped"]
    assert body["mapping"]["Lead ID"] == "external_ref"
    # Salesforce's own lead statuses map as crmsync's Salesforce status map reads them;
    # only a status no CRM of crmsync's has is left to the user
    assert body["suggested_value_maps"] == {}
    status = next(c for c in body["columns"] if c["header"] == "Lead Status")
    assert status["status"] == "error"
    assert [(u["value"], u["suggestion"]) for u in status["unknown_values"]] == [
        ("Nurturing", None)
    ]
    # the repeated Ana Lima (same e-mail, other case) duplicates line 5
    assert body["duplicates"] == [{"line": 10, "duplicate_of_line": 5}]
    assert body["failing_lines"] == [7, 9]  # bad e-mail, Nurturing; the footer is no row
    pipedrive, options = EXPORTS["pipedrive_export"](tmp_path)
    body = _post(api, tenant, f"{BASE}/preview", pipedrive, _form(options))
    name = next(c for c in body["columns"] if c["header"] == "Person - Name")
    assert name["target"] == "full_name"
    assert name["samples"][0] == {
        "before": "Mia van der Berg",
        "after": {"first_name": "Mia", "last_name": "van der Berg"},
    }
    # 'Hot lead' labels are not contact types: the column is left unmapped, not corrupted
    label = next(s for s in body["suggested_mapping"] if s["source"] == "Person - Label")
    assert label["target"] is None


def test_a_salesforce_opportunity_report_imports_its_amounts_and_dates(
    api: TestClient, imports_app: FastAPI, tenant: Tenant, tmp_path: Path
) -> None:
    # "$350,000.00" and "6/30/2026" failed every row, and the suggestion left them out
    path, options = EXPORTS["salesforce_opportunities"](tmp_path)
    preview = _post(api, tenant, f"{BASE}/preview", path, _form(options))
    assert preview["mapping"]["Amount"] == "amount"
    assert preview["mapping"]["Close Date"] == "close_date"
    assert preview["failing_lines"] == []
    job = _post(api, tenant, BASE, path, _form(options | {"start": "true"}))
    wait(imports_app, job["id"])
    deals = api.get("/api/v1/deals", params={"limit": 50}, headers=tenant.headers()).json()
    got = {d["external_ref"]: (d["amount"], d["close_date"]) for d in deals["items"]}
    assert got == {
        "0065e00000XyZ01": (350000, "2026-06-30"),
        "0065e00000XyZ02": (1250000, "2026-12-31"),
        "0065e00000XyZ03": (None, "2026-04-01"),
    }
    # Salesforce's stage names are read as a sync reads them ("Closed Won" stayed as it
    # was: no CLOSED_WON rule saw the deal, and pushing it was refused); a stage nothing
    # knows is kept as it is, and the preview does not call it unknown
    stages = {d["external_ref"]: d["stage"] for d in deals["items"]}
    assert stages == {
        "0065e00000XyZ01": "APPOINTMENT_SCHEDULED",
        "0065e00000XyZ02": "CLOSED_WON",
        "0065e00000XyZ03": "Closed Lost - Duplicate",
    }
    stage = next(c for c in preview["columns"] if c["header"] == "Stage")
    assert (stage["status"], stage["unknown_values"]) == ("ok", [])


def test_a_hubspot_create_date_is_no_birthday(
    api: TestClient, tenant: Tenant, tmp_path: Path
) -> None:
    path, options = EXPORTS["hubspot_export"](tmp_path)
    preview = _post(api, tenant, f"{BASE}/preview", path, _form(options))
    assert "Create Date" not in preview["mapping"]


def test_value_maps_unknown_policy_keep_and_integration_maps(
    api: TestClient, imports_app: FastAPI, tenant: Tenant, tmp_path: Path
) -> None:
    path, options = EXPORTS["salesforce_report"](tmp_path)
    value_maps = {"Lead Status": {"status_map": "salesforce/lead_status", "unknown": "keep"}}
    body = _post(api, tenant, f"{BASE}/preview", path, _form(options, value_maps=value_maps))
    status = next(c for c in body["columns"] if c["header"] == "Lead Status")
    # no row fails on it; the one value no map knows is listed (and will be kept)
    assert (status["status"], status["problems"]) == ("warning", [])
    assert [u["value"] for u in status["unknown_values"]] == ["Nurturing"]
    job = _post(
        api, tenant, BASE, path,
        _form(options | {"start": "true", "keep_unmapped": "true"}, value_maps=value_maps),
    )  # fmt: skip
    wait(imports_app, job["id"])
    leads = api.get("/api/v1/leads", params={"limit": 50}, headers=tenant.headers()).json()
    by_ref = {lead["external_ref"]: lead for lead in leads["items"]}
    assert by_ref["00Q5f00000AbCdE001"]["status"] == "NEW"
    assert by_ref["00Q5f00000AbCdE002"]["status"] == "CONTACTED"
    # 'Nurturing' is in no map: the lead takes the default status and keeps the value
    nurturing = by_ref["00Q5f00000AbCdE005"]
    assert (nurturing["status"], nurturing["custom_fields"]["status"]) == ("NEW", "Nurturing")
    assert by_ref["00Q5f00000AbCdE001"]["custom_fields"]["created_date"] == "12/1/2026"
