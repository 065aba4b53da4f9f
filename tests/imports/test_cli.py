"""``crmsync import``: a summary table, the error report path, and the exit status."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from crmsync.imports.cli import import_file
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Contact
from crmsync.workspaces import create_workspace

GOOD = "First Name,Email\nAna,ana@example.com\nBo,bo@example.com\n"
MAPPING = "First Name: first_name\nEmail: email\n"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'crmsync.db'}"
    upgrade(url)
    return url


@pytest.fixture
def workspace(database: str) -> uuid.UUID:
    with session_scope(make_sessionmaker(make_engine(database))) as session:
        return create_workspace(session, "cli").id


def run(database: str, tmp_path: Path, *args: str) -> object:
    app = typer.Typer()
    app.command()(import_file)
    env = {"CRMSYNC_DATABASE_URL": database, "CRMSYNC_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(app, list(args), env=env)


def emails(database: str, workspace: uuid.UUID) -> list[str | None]:
    with make_sessionmaker(make_engine(database))() as session:
        stmt = select(Contact.email).where(Contact.workspace_id == workspace)
        return sorted(session.scalars(stmt))


def test_a_clean_file_imports_and_exits_zero(
    database: str, workspace: uuid.UUID, tmp_path: Path
) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(GOOD)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    result = run(database, tmp_path, str(source), "--workspace", str(workspace),
                 "--mapping", str(mapping))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "completed" in result.output
    assert emails(database, workspace) == ["ana@example.com", "bo@example.com"]


def test_failed_rows_exit_one_and_print_the_report_path(
    database: str, workspace: uuid.UUID, tmp_path: Path
) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(GOOD + "Cy,not-an-email\n")
    result = run(database, tmp_path, str(source), "--workspace", str(workspace))
    assert result.exit_code == 1
    report = Path(next(line for line in result.output.splitlines() if line.endswith("errors.csv")))
    assert "not-an-email" in report.read_text(encoding="utf-8")


def test_dry_run_writes_nothing(database: str, workspace: uuid.UUID, tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(GOOD)
    result = run(database, tmp_path, str(source), "--workspace", str(workspace), "--dry-run")
    assert result.exit_code == 0, result.output
    assert emails(database, workspace) == []


def test_an_unreadable_file_exits_two(database: str, workspace: uuid.UUID, tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_bytes(bytes(range(256)))
    result = run(database, tmp_path, str(source), "--workspace", str(workspace))
    assert result.exit_code == 2
    assert "binary data" in result.output


def test_options_value_maps_and_the_outcome_report(
    database: str, workspace: uuid.UUID, tmp_path: Path
) -> None:
    source = tmp_path / "clientes.csv"
    source.write_text(
        "Clientes de diciembre\n\n"
        "Id;Nombre completo;Correo;Teléfono;Tipo\n"
        "c1;Ana Lima;ana@correo.example;612 345 678;Cliente\n"
        "c2;Bo Chen;bo@correo.example;12;Socio\n"
        "c3;;;;Cliente\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "Id: external_ref\nNombre completo: full_name\nCorreo: email\nTeléfono: phone\n"
        "Tipo: {field: contact_type, values: {Cliente: customer}, unknown: keep}\n",
        encoding="utf-8",
    )
    result = run(database, tmp_path, str(source), "--workspace", str(workspace),
                 "--mapping", str(mapping), "--region", "es", "--header-row", "3",
                 "--severity", "phone=warning")  # fmt: skip
    assert result.exit_code == 1, result.output  # the row without e-mail or phone fails
    outcome = Path(next(p for p in result.output.splitlines() if p.endswith("outcomes.csv")))
    report = list(csv.reader(io.StringIO(outcome.read_text(encoding="utf-8-sig"))))
    assert report[0][-4:] == ["import_line", "import_outcome", "import_record_id", "import_reasons"]
    assert [row[-4:-2] for row in report[1:]] == [["4", "created"], ["5", "created"],
                                                  ["6", "failed"]]  # fmt: skip
    assert report[2][-1] == "Teléfono: not a valid phone number"  # a warning: Bo imported
    assert report[3][-1] == "one of email, phone is required"
    with make_sessionmaker(make_engine(database))() as session:
        stmt = select(Contact).where(Contact.workspace_id == workspace).order_by(Contact.email)
        ana, bo = session.scalars(stmt)
    assert (ana.first_name, ana.last_name, ana.phone, ana.contact_type) == (
        "Ana", "Lima", "+34612345678", "customer")  # fmt: skip
    assert (bo.phone, bo.contact_type, bo.custom_fields) == (None, None, {"contact_type": "Socio"})
