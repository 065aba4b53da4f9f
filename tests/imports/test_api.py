"""``/api/v1/imports`` on SQLite and PostgreSQL: preview, jobs, progress, errors, retry."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from crmsync.imports.launcher import ThreadLauncher
from crmsync.imports.settings import ImportSettings
from tests.conftest import Tenant, create_test_app
from tests.imports import corpus

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

BASE = "/api/v1/imports"
LEADS = (
    "First Name,Last Name,Email Address,Mobile\n"
    "Ana,Lima,ana@example.com,+1 212 555 0134\n"
    "Bo,Chen,bo@,+1 312 555 0188\n"
    "Cy,Do,cy@example.com,\n"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imports-data")


@pytest.fixture(scope="module")
def imports_app(database_url: str, engine: Engine, data_dir: Path) -> FastAPI:
    app = create_test_app(database_url, engine, max_upload_mb=1.0)
    app.state.import_settings = ImportSettings(data_dir=data_dir, max_upload_mb=1.0)
    return app


def upload(
    api: TestClient, tenant: Tenant, text: str | bytes, role: Role = Role.ADMIN, **form: Any
) -> Any:
    body = text.encode() if isinstance(text, str) else text
    files = {"file": (form.pop("filename", "leads.csv"), body)}
    return api.post(BASE, files=files, data=form, headers=tenant.headers(role))


def wait(app: FastAPI, job_id: str) -> None:
    launcher: ThreadLauncher = app.state.import_launcher
    launcher.join(uuid.UUID(job_id))


def test_preview_suggests_a_mapping_and_warns_about_bad_rows(
    api: TestClient, tenant: Tenant
) -> None:
    files = {"file": ("leads.csv", LEADS.encode())}
    answer = api.post(f"{BASE}/preview", files=files, headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["headers"] == ["First Name", "Last Name", "Email Address", "Mobile"]
    assert body["mapping"] == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email Address": "email",
        "Mobile": "phone",
    }
    assert body["detected_types"]["Mobile"] == "phone"
    assert body["rows"][0]["First Name"] == "Ana"
    email = next(s for s in body["suggested_mapping"] if s["source"] == "Email Address")
    assert email["confidence"] >= 0.9 and email["alternatives"]
    assert body["warnings"] == [
        {"line": 3, "message": "Email Address: not an e-mail address", "severity": "error"}
    ]
    columns = {c["header"]: c for c in body["columns"]}
    assert columns["Email Address"]["status"] == "error"
    assert columns["Email Address"]["problems"] == [
        {"rule": "email", "severity": "error", "message": "not an e-mail address", "count": 1,
         "examples": ["bo@"]}
    ]  # fmt: skip
    assert columns["Mobile"]["samples"][0] == {"before": "+1 212 555 0134", "after": "+12125550134"}
    assert columns["First Name"]["status"] == "ok"
    assert body["sample"] == {
        "rows": 3, "would_fail": 1, "would_import": 2, "duplicates": 0, "with_warnings": 0
    }  # fmt: skip


def test_a_job_runs_to_the_end_and_reports_its_failed_rows(
    api: TestClient, imports_app: FastAPI, tenant: Tenant
) -> None:
    created = upload(api, tenant, LEADS, batch_size="2")
    assert created.status_code == 201, created.text
    job = created.json()
    assert (job["status"], job["format"], job["progress"]["total"]) == ("pending", "csv", None)
    started = api.post(f"{BASE}/{job['id']}/start", headers=tenant.headers())
    assert started.status_code == 202
    wait(imports_app, job["id"])
    progress = api.get(f"{BASE}/{job['id']}/progress", headers=tenant.headers(Role.VIEWER))
    assert progress.json() | {"eta_seconds": None} == {
        "id": job["id"],
        "status": "completed",
        "total": 3,
        "processed": 3,
        "succeeded": 2,
        "created": 2,
        "updated": 0,
        "failed": 1,
        "duplicates": 0,
        "possible_duplicates": 0,
        "percentage": 100.0,
        "eta_seconds": None,
        "error": None,
    }
    contacts = api.get("/api/v1/contacts", headers=tenant.headers()).json()["items"]
    assert sorted(c["email"] for c in contacts) == ["ana@example.com", "cy@example.com"]
    report = api.get(f"{BASE}/{job['id']}/errors", headers=tenant.headers(Role.VIEWER))
    assert report.headers["content-type"].startswith("text/csv")
    lines = report.text.removeprefix("\ufeff").splitlines()
    assert lines == [
        "First Name,Last Name,Email Address,Mobile,_extra,import_line,import_errors",
        "Bo,Chen,bo@,'+1 312 555 0188,,3,Email Address: not an e-mail address",
    ]
    retry = api.post(f"{BASE}/{job['id']}/retry-failed?start=true", headers=tenant.headers())
    assert retry.status_code == 201
    wait(imports_app, retry.json()["id"])
    again = api.get(f"{BASE}/{retry.json()['id']}", headers=tenant.headers()).json()
    assert (again["retry_of"], again["progress"]["failed"]) == (job["id"], 1)
    listed = api.get(BASE, headers=tenant.headers(Role.VIEWER)).json()["items"]
    assert [j["id"] for j in listed] == [again["id"], job["id"]]


def test_an_explicit_mapping_and_options_are_kept(
    api: TestClient, imports_app: FastAPI, tenant: Tenant
) -> None:
    mapping = '{"Email Address": "email", "First Name": "first_name", "Mobile": null}'
    job = upload(
        api, tenant, LEADS, mapping=mapping, dry_run="true", on_duplicate="update", start="true"
    ).json()
    assert job["mapping"] == {"Email Address": "email", "First Name": "first_name"}
    assert job["options"]["dry_run"] is True and job["options"]["on_duplicate"] == "update"
    wait(imports_app, job["id"])
    done = api.get(f"{BASE}/{job['id']}/progress", headers=tenant.headers()).json()
    assert (done["status"], done["created"], done["failed"]) == ("completed", 2, 1)
    assert api.get("/api/v1/contacts", headers=tenant.headers()).json()["items"] == []


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"mapping": '{"Email Address": "shoe_size"}'}, 422, "unknown canonical field"),
        ({"mapping": "[1]"}, 422, "mapping: a JSON object"),
        ({"on_duplicate": "merge"}, 422, "on_duplicate"),
        ({"batch_size": "20000"}, 422, "batch_size"),
        ({"object_type": "tickets"}, 422, "object_type: Input should be"),
    ],
)
def test_bad_options_are_refused(
    api: TestClient, tenant: Tenant, form: dict[str, str], status: int, message: str
) -> None:
    answer = upload(api, tenant, LEADS, **form)
    assert answer.status_code == status
    assert message in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("binary", 422, "unreadable_file"),
        ("empty", 422, "unreadable_file"),
        ("xlsx_bomb", 413, "payload_too_large"),
        ("xlsx_entities", 422, "unreadable_file"),
    ],
)
def test_awkward_uploads_get_a_clear_answer(
    api: TestClient, tenant: Tenant, tmp_path: Path, name: str, status: int, code: str
) -> None:
    path = corpus.CORPUS[name](tmp_path)
    answer = upload(api, tenant, path.read_bytes(), filename=path.name)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)


def test_an_upload_over_the_limit_is_413(api: TestClient, tenant: Tenant) -> None:
    answer = upload(api, tenant, "email\n" + "a@example.com\n" * 100_000)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_xlsx_jobs_import_the_named_sheet(
    api: TestClient, imports_app: FastAPI, tenant: Tenant, tmp_path: Path
) -> None:
    path = corpus.xlsx(tmp_path)
    job = upload(
        api, tenant, path.read_bytes(), filename=path.name, sheet="Other", start="true"
    ).json()
    wait(imports_app, job["id"])
    contacts = api.get("/api/v1/contacts", headers=tenant.headers()).json()["items"]
    assert [c["email"] for c in contacts] == ["cy@example.com"]


def test_permissions_and_workspaces(api: TestClient, tenant: Tenant, make_tenant: Any) -> None:
    assert upload(api, tenant, LEADS, role=Role.AGENT).status_code == 403
    job = upload(api, tenant, LEADS).json()
    viewer = tenant.headers(Role.VIEWER)
    assert api.get(f"{BASE}/{job['id']}", headers=viewer).status_code == 200
    assert api.post(f"{BASE}/{job['id']}/start", headers=viewer).status_code == 403
    other = make_tenant()
    assert api.get(f"{BASE}/{job['id']}", headers=other.headers()).status_code == 404
    assert api.delete(f"{BASE}/{job['id']}", headers=other.headers()).status_code == 404
    for method, tail in (("GET", "/rows"), ("GET", "/outcomes.csv"), ("POST", "/undo")):
        answer = api.request(method, f"{BASE}/{job['id']}{tail}", headers=other.headers())
        assert answer.status_code == 404, (method, tail)
    # a job that has not run has nothing to undo
    assert api.post(f"{BASE}/{job['id']}/undo", headers=tenant.headers()).status_code == 409


def test_cancel_and_delete_a_pending_job(api: TestClient, tenant: Tenant) -> None:
    job = upload(api, tenant, LEADS).json()
    cancelled = api.post(f"{BASE}/{job['id']}/cancel", headers=tenant.headers())
    assert cancelled.json()["status"] == "cancelled"
    assert api.delete(f"{BASE}/{job['id']}", headers=tenant.headers()).status_code == 204
    assert api.get(f"{BASE}/{job['id']}", headers=tenant.headers()).status_code == 404
    gone = api.post(f"{BASE}/{job['id']}/cancel", headers=tenant.headers())
    assert gone.status_code == 404


def test_templates_are_csv_whose_headers_map_to_themselves(api: TestClient, tenant: Tenant) -> None:
    answer = api.get(f"{BASE}/templates/contacts.csv", headers=tenant.headers(Role.VIEWER))
    assert answer.status_code == 200
    header, example = answer.text.removeprefix("\ufeff").splitlines()
    assert header.startswith("external_ref,email,phone,first_name,last_name")
    assert example.startswith("app-1001,jane.doe@example.com,")
    files = {"file": ("contacts.csv", answer.content)}
    preview = api.post(f"{BASE}/preview", files=files, headers=tenant.headers()).json()
    assert preview["warnings"] == []
    fields = header.split(",")[1:]  # external_ref is not a mapped canonical field
    assert {h: preview["mapping"][h] for h in fields} == {h: h for h in fields}
    assert api.get(f"{BASE}/templates/tickets.csv", headers=tenant.headers()).status_code == 404


# (method, path as in the OpenAPI document, permission it needs); the role matrix of
# tests/api/test_permissions.py covers the other endpoints.
IMPORT_ROUTES: list[tuple[str, str, Permission]] = [
    ("POST", f"{BASE}/preview", Permission.IMPORTS_RUN),
    ("POST", BASE, Permission.IMPORTS_RUN),
    ("GET", BASE, Permission.RECORDS_READ),
    ("GET", f"{BASE}/templates/{{name}}", Permission.RECORDS_READ),
    ("GET", f"{BASE}/{{job_id}}", Permission.RECORDS_READ),
    ("DELETE", f"{BASE}/{{job_id}}", Permission.IMPORTS_RUN),
    ("POST", f"{BASE}/{{job_id}}/start", Permission.IMPORTS_RUN),
    ("POST", f"{BASE}/{{job_id}}/cancel", Permission.IMPORTS_RUN),
    ("GET", f"{BASE}/{{job_id}}/progress", Permission.RECORDS_READ),
    ("GET", f"{BASE}/{{job_id}}/errors", Permission.RECORDS_READ),
    ("POST", f"{BASE}/{{job_id}}/retry-failed", Permission.IMPORTS_RUN),
    ("GET", f"{BASE}/{{job_id}}/rows", Permission.RECORDS_READ),
    ("GET", f"{BASE}/{{job_id}}/outcomes.csv", Permission.RECORDS_READ),
    ("POST", f"{BASE}/{{job_id}}/undo", Permission.IMPORTS_RUN),
    ("GET", f"{BASE}/settings", Permission.RECORDS_READ),
    ("PUT", f"{BASE}/settings", Permission.WORKSPACE_ADMIN),
]


def test_every_imports_route_is_in_the_matrix(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    routes = {(m.upper(), p) for p, methods in paths.items() if p.startswith(BASE) for m in methods}
    assert routes == {(m, p) for m, p, _ in IMPORT_ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(api: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, permission in IMPORT_ROUTES:
        path = template.replace("{name}", "contacts.csv")
        if "{job_id}" in template:
            path = path.replace("{job_id}", upload(api, tenant, LEADS).json()["id"])
        files = {"file": ("leads.csv", LEADS.encode())} if method == "POST" else None
        answer = api.request(method, path, files=files, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code not in (401, 403), (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"]["details"] == {"required": permission.value}


def test_workspace_severity_applies_to_previews_and_imports(
    api: TestClient, imports_app: FastAPI, tenant: Tenant
) -> None:
    text = "Email,Phone\nana@example.com,12\n"
    files = {"file": ("leads.csv", text.encode())}
    form = {"mapping": '{"Email": "email", "Phone": "phone"}'}
    preview = api.post(f"{BASE}/preview", files=files, data=form, headers=tenant.headers()).json()
    assert preview["sample"]["would_fail"] == 0  # a bad phone beside an e-mail: a warning
    refused = api.put(f"{BASE}/settings", json={"severity": {"phone": "fatal"}},
                      headers=tenant.headers())  # fmt: skip
    assert refused.status_code == 422
    saved = api.put(f"{BASE}/settings", json={"severity": {"phone": "error"}},
                    headers=tenant.headers())  # fmt: skip
    assert saved.json()["severity"] == {"phone": "error"}
    assert saved.json()["defaults"]["contacts"]["phone:phone"] == "warning"
    preview = api.post(f"{BASE}/preview", files=files, data=form, headers=tenant.headers()).json()
    assert preview["sample"]["would_fail"] == 1
    # an import's own table is laid over the workspace's
    job = upload(api, tenant, text, start="true", severity='{"phone": "warning"}', **form).json()
    wait(imports_app, job["id"])
    rows = api.get(f"{BASE}/{job['id']}/rows", headers=tenant.headers()).json()["items"]
    assert [(r["outcome"], r["reasons"]) for r in rows] == [
        ("created", ["Phone: not a valid phone number"])
    ]
    undone = api.post(f"{BASE}/{job['id']}/undo", headers=tenant.headers())
    assert undone.json() == {
        "deleted": 1, "restored_records": 0, "restored_fields": 0, "not_undone": []
    }  # fmt: skip
    other = api.post(f"{BASE}/{job['id']}/undo", headers=tenant.headers())
    assert other.status_code == 409
