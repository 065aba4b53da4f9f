"""The preview's hints: phones read under the wrong region, and non-empty columns an
import would drop, each with the exact option that fixes it (API, CLI and web page)."""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from crmsync.auth.permissions import Role
from crmsync.imports.cli import import_file
from crmsync.imports.jobs import get_job
from crmsync.imports.options import ImportOptions
from crmsync.imports.preview import preview_file
from crmsync.imports.preview_hints import region_hint
from crmsync.imports.settings import ImportSettings
from crmsync.store.migrate import upgrade
from tests.conftest import Tenant
from tests.imports.exports import french_export, pipedrive_persons
from tests.imports.test_api import BASE, wait
from tests.web.conftest import People, csrf_of, people, signed_in  # noqa: F401

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

FRENCH_FIX = (
    "Téléphone: set region FR: 48 of 50 sample phones parse as numbers of France (0 under US)"
)


def preview(tmp_path: Path, text: str, **options: Any) -> dict[str, Any]:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    limits = ImportSettings(data_dir=tmp_path / "data")
    return preview_file(path, path.name, limits, ImportOptions.model_validate(options))


def hint(answer: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((h for h in answer["hints"] if h["kind"] == kind), None)


def test_french_phones_under_us_say_which_region_to_set(tmp_path: Path) -> None:
    found = hint(preview(tmp_path, french_export()), "region")
    assert found is not None
    assert found["message"].startswith(FRENCH_FIX)
    assert (found["region"], found["parsed"], found["of"], found["parsed_now"]) == (
        "FR", 48, 50, 0
    )  # fmt: skip
    assert found["fix"] == {"region": "FR"}
    # with the fix the column is mapped and no hint is left about it
    fixed = preview(tmp_path, french_export(), region="FR")
    assert hint(fixed, "region") is None
    assert fixed["mapping"]["Téléphone"] == "phone"
    assert fixed["sample"]["would_fail"] == 0


def test_the_file_points_to_the_region_first(tmp_path: Path) -> None:
    """06 12 34 56 78 is a number in France and in Italy: a Country column, or numbers
    written with +39 in the column, decide; without either the common list's order does
    and the others are named."""
    phones = ["06 12 34 56 78", "06 12 34 56 79", "06 12 34 56 80"]
    assert region_hint("Tel", phones, "US", ["Italia", "Italy"])["region"] == "IT"  # type: ignore[index]
    dialled = region_hint("Tel", [*phones, "+39 06 1234 5678"], "US")
    assert dialled is not None and dialled["region"] == "IT"
    alone = region_hint("Tel", phones, "US")
    assert alone is not None and alone["region"] == "FR" and "IT" in alone["also"]
    assert "as many parse under" in alone["message"]


def test_phones_that_mostly_parse_get_no_hint(tmp_path: Path) -> None:
    assert region_hint("Tel", ["(212) 555-0100", "(702) 555-0147", "12"], "US") is None
    assert region_hint("Tel", ["12", "n/a"], "US") is None  # parse nowhere: no region to name
    assert hint(preview(tmp_path, french_export(), region="FR"), "region") is None


def test_extra_pipedrive_phones_and_emails_are_named_with_the_fix(tmp_path: Path) -> None:
    answer = preview(tmp_path, pipedrive_persons())
    assert answer["mapping"]["Phone - Work"] == "phone"
    assert answer["mapping"]["Email - Work"] == "email"
    dropped = hint(answer, "dropped_columns")
    assert dropped is not None and dropped["fix"] == {"keep_unmapped": True}
    assert dropped["columns"] == [
        {"header": "Email - Home", "filled": 2, "keep_as": "custom_fields.email_home"},
        {"header": "Phone - Home", "filled": 2, "keep_as": "custom_fields.phone_home"},
        {"header": "Phone - Mobile", "filled": 2, "keep_as": "custom_fields.phone_mobile"},
    ]
    assert "Phone - Home (2 of 3 sample rows)" in dropped["message"]
    assert "keep_unmapped" in dropped["message"]
    kept = preview(tmp_path, pipedrive_persons(), keep_unmapped=True)
    assert kept["hints"] == []
    assert kept["mapping"]["Phone - Home"] == "custom_fields.phone_home"


def test_an_empty_unmapped_column_is_not_reported(tmp_path: Path) -> None:
    text = "Email,Notes\nana@example.com,\nbo@example.com,\n"
    assert preview(tmp_path, text)["hints"] == []


# --- over the API: the hint, then the import with its fix keeps the values -----------


def _post(api: TestClient, tenant: Tenant, url: str, text: str, **form: str) -> Any:
    files = {"file": ("export.csv", text.encode())}
    answer = api.post(url, files=files, data=form, headers=tenant.headers())
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_api_preview_hints_and_their_fixes(
    api: TestClient, imports_app: FastAPI, tenant: Tenant
) -> None:
    french = _post(api, tenant, f"{BASE}/preview", french_export())
    assert hint(french, "region")["message"].startswith(FRENCH_FIX)  # type: ignore[index]
    pipedrive = _post(api, tenant, f"{BASE}/preview", pipedrive_persons())
    assert hint(pipedrive, "dropped_columns")["count"] == 3  # type: ignore[index]
    job = _post(api, tenant, BASE, pipedrive_persons(), start="true", keep_unmapped="true")
    wait(imports_app, job["id"])
    contacts = api.get("/api/v1/contacts", params={"limit": 50}, headers=tenant.headers())
    by_email = {c["email"]: c for c in contacts.json()["items"]}
    assert by_email["noah@smith.example"]["custom_fields"]["phone_home"] == "(702) 555-0199"
    assert by_email["mia@berg.example"]["custom_fields"]["email_home"] == "mia@home.example"


# --- the CLI: --preview prints the hints and makes no job; an import prints them too --


def test_cli_preview_prints_the_fix(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crmsync.db'}"
    upgrade(url)
    source = tmp_path / "contacts.csv"
    source.write_text(french_export(), encoding="utf-8")
    app = typer.Typer()
    app.command()(import_file)
    env = {
        "CRMSYNC_DATABASE_URL": url,
        "CRMSYNC_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "300",
    }
    args = [str(source), "--workspace", str(uuid.uuid4()), "--preview"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert FRENCH_FIX in " ".join(result.output.split())
    assert not (tmp_path / "data" / "uploads").exists() or not any(
        (tmp_path / "data" / "uploads").iterdir()
    )


# --- the web page: the hints shown, and both fixes settable on the form ---------------


def test_web_preview_shows_hints_and_takes_region_and_keep_unmapped(
    signed_in: Callable[[Role], TestClient],  # noqa: F811
    people: People,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    client = signed_in(Role.MANAGER)
    token = csrf_of(client.get("/ui/imports").text)
    uploaded = client.post(
        "/ui/imports",
        data={"csrf_token": token, "object_type": "contacts"},
        files={"file": ("contacts.csv", french_export().encode(), "text/csv")},
    )
    assert FRENCH_FIX in uploaded.text
    found = re.search(r"/ui/imports/([0-9a-f-]{36})", str(uploaded.url))
    assert found, uploaded.url
    job_id = uuid.UUID(found.group(1))
    mapping = {
        "map:Prénom": "first_name", "map:Nom": "last_name", "map:Courriel": "email",
        "map:Ville": "city", "map:Pays": "country",
    }  # fmt: skip
    form = {"csrf_token": token, "action": "preview", "import_options": "shown", **mapping}
    again = client.post(
        f"/ui/imports/{job_id}", data={**form, "region": "fr", "keep_unmapped": "true"}
    )
    assert again.status_code == 200
    assert "set region" not in again.text
    with sessions() as session:
        job = get_job(session, people.workspace_id, job_id)
        assert job.options["region"] == "FR" and job.options["keep_unmapped"] is True
        assert job.mapping["Téléphone"] == "custom_fields.telephone"
        assert job.mapping["Ville"] == "city"
    refused = client.post(f"/ui/imports/{job_id}", data={**form, "region": "ZZ"})
    assert "not a country code" in refused.text
    unticked = client.post(f"/ui/imports/{job_id}", data={**form, "region": "FR"})
    assert "not imported, 1 column with values: Téléphone (50 of 50 sample rows)" in unticked.text
    with sessions() as session:
        job = get_job(session, people.workspace_id, job_id)
        assert "Téléphone" not in job.mapping and job.options["keep_unmapped"] is False
