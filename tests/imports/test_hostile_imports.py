"""Awkward and hostile import files get an answer, never a 500 (issue 17)."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI

from tests.conftest import Tenant
from tests.imports.test_api import BASE, TestClient, data_dir, imports_app, upload, wait

__all__ = ["data_dir", "imports_app"]  # fixtures shared with test_api (api: conftest)

DEEP = '{"a": ' * 3000 + "1" + "}" * 3000


@pytest.mark.parametrize(
    ("name", "body", "rows"),
    [
        ("cr.csv", "First Name,Email\rAna,ana@example.com\rBo,bo@example.com\r", 2),
        ("quoted.csv", 'First Name,Email\n"A\rna",ana@example.com\n', 1),
        ("bare.csv", "First Name,Email\nA\rna,ana@example.com\n", 2),
        ("deep.jsonl", '{"first_name": "Ana"}\n' + DEEP + "\n", 2),
        ("big.jsonl", '{"first_name": "Ana"}\n{"n": 1e999}\n{"n": NaN}\n', 3),
    ],
)
def test_odd_files_preview(
    api: TestClient, tenant: Tenant, name: str, body: str, rows: int
) -> None:
    files = {"file": (name, body.encode())}
    answer = api.post(f"{BASE}/preview", files=files, headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["rows"]) == rows


def test_a_deeply_nested_json_array_is_unreadable(api: TestClient, tenant: Tenant) -> None:
    files = {"file": ("deep.json", ("[" + DEEP + "]").encode())}
    answer = api.post(f"{BASE}/preview", files=files, headers=tenant.headers())
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "unreadable_file"


def test_a_non_latin_1_filename_downloads_its_error_report(
    api: TestClient, imports_app: FastAPI, tenant: Tenant, data_dir: Path
) -> None:
    created = upload(api, tenant, "First Name,Email\nAna,not-an-email\n", filename="лиды.csv")
    assert created.status_code == 201, created.text
    job = created.json()["id"]
    assert api.post(f"{BASE}/{job}/start", headers=tenant.headers()).status_code == 202
    wait(imports_app, job)
    report = api.get(f"{BASE}/{job}/errors", headers=tenant.headers())
    assert report.status_code == 200, report.text
    disposition = report.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote('лиды-errors.csv')}" in disposition
    assert "not-an-email" in report.text


def test_uploads_are_readable_by_the_service_only(
    api: TestClient, tenant: Tenant, data_dir: Path
) -> None:
    created = upload(api, tenant, "Email\na@example.com\n")
    assert created.status_code == 201, created.text
    stored = [p for p in data_dir.rglob(f"*{created.json()['id']}*/*") if p.is_file()]
    assert stored
    for path in stored:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
        assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
