"""Value maps, suggestions that do not corrupt, header rows, mapping files, names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.orm import Session

from crmsync.imports.errors import InvalidOptions, UnreadableFile
from crmsync.imports.mapping_file import read_mapping_text
from crmsync.imports.names import split_full_name
from crmsync.imports.readers import open_table
from crmsync.imports.rowmap import RowMapper, with_unmapped
from crmsync.imports.settings import ImportSettings
from crmsync.imports.statusmaps import resolve_value_maps
from crmsync.imports.suggested import suggestions, take_sample
from crmsync.imports.valuemaps import ValueMap, suggest_values, value_key
from crmsync.mapping.errors import MappingFileError
from crmsync.mapping.suggest import suggest_mappings
from crmsync.store.models import Integration
from tests.conftest import Tenant

LIMITS = ImportSettings(data_dir=Path("/nonexistent"))


@pytest.mark.parametrize(
    ("a", "b"),
    [("Open - Not Contacted", "open not contacted"), ("CLOSED_WON", "Closed Won"),
     ("Cualificádo", "cualificado")],
)  # fmt: skip
def test_values_match_without_case_accents_or_punctuation(a: str, b: str) -> None:
    assert value_key(a) == value_key(b)


@pytest.mark.parametrize(
    ("value_map", "cell", "fields", "errors"),
    [
        (None, "qualified", {"status": "QUALIFIED"}, []),  # canonical, any case
        (None, "Hot", {}, ["Status: not one of NEW, CONTACTED, QUALIFIED, VIEWING_SCHEDULED, "
                           "VIEWED, NEGOTIATING, CONVERTED, LOST"]),
        ({"values": {"Hot": "QUALIFIED"}}, "HOT", {"status": "QUALIFIED"}, []),
        ({"values": {}}, "Hot", {}, ["Status: value not in the value map"]),
        ({"unknown": "keep"}, "Hot", {"custom_fields": {"status": "Hot"}}, []),
        ({"unknown": "default", "default": "NEW"}, "Hot", {"status": "NEW"}, []),
    ],
)  # fmt: skip
def test_value_maps_and_their_unknown_policy(
    value_map: dict[str, Any] | None, cell: str, fields: dict[str, Any], errors: list[str]
) -> None:
    maps = {"Status": ValueMap.model_validate(value_map)} if value_map is not None else {}
    mapper = RowMapper("leads", {"Mail": "email", "Status": "status"}, value_maps=maps)
    out = mapper.map({"Mail": "a@example.com", "Status": cell})
    assert (out.fields, out.errors) == ({"email": "a@example.com", **fields}, errors)


def test_a_value_map_on_an_unmapped_column_is_refused() -> None:
    with pytest.raises(InvalidOptions, match="'Nope' is not a mapped column"):
        RowMapper("leads", {"Mail": "email"}, value_maps={"Nope": ValueMap()})


def test_value_suggestions_come_from_synonyms_and_similarity() -> None:
    found = {
        s.value: s.target
        for s in suggest_values(
            "leads", "status",
            ["Open - Not Contacted", "Closed - Converted", "Qualifed", "Perdido", "Banana", "NEW"],
        )
    }  # fmt: skip
    assert found == {
        "Open - Not Contacted": "NEW",
        "Closed - Converted": "CONVERTED",
        "Qualifed": "QUALIFIED",  # a typo, by similarity
        "Perdido": "LOST",  # Spanish
    }


@pytest.mark.parametrize(
    ("header", "target"),
    [("Lead ID", "external_ref"), ("Record ID", "external_ref"), ("External Id", "external_ref"),
     ("Full Name", "full_name"), ("Nom", "last_name"), ("Prénom", "first_name"),
     ("Apellidos", "last_name"), ("Correo electrónico", "email"), ("Téléphone", "phone"),
     ("Nachname", "last_name"), ("Vorname", "first_name"), ("Sobrenome", "last_name"),
     ("Telefone", "phone"), ("Empresa", "company"), ("Código postal", "postal_code"),
     ("Ciudad", "city"), ("Notas", "notes")],
)  # fmt: skip
def test_import_headers_in_five_languages(header: str, target: str) -> None:
    object_type = "leads" if target == "notes" else "contacts"
    (found,) = suggest_mappings([header], None, object_type, for_import=True)
    assert found.target == target


def test_a_suggestion_whose_values_do_not_fit_is_left_unmapped(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    path.write_text("Email,Type\na@example.com,FHA\nb@example.com,VA\nc@example.com,FHA\n")
    reader = open_table(path, path.name, LIMITS)
    sample = take_sample(reader)
    headers, values = reader.info.headers, sample.columns
    found = suggest_mappings(headers, values, "contacts", for_import=True)
    without = {s.source: s.target for s in found}
    assert without["Type"] == "contact_type"  # the header alone says so
    checked = {s.source: s for s in suggestions(reader, sample, "contacts", "US")}
    assert checked["Type"].target is None
    assert checked["Type"].alternatives[0].target == "contact_type"


def test_unmapped_columns_can_be_kept_as_custom_fields() -> None:
    columns = with_unmapped({"Email": "email", "Notes": None}, ["Email", "Loan Amount", "Notes"])
    assert columns == {
        "Email": "email",
        "Loan Amount": "custom_fields.loan_amount",
        "Notes": "custom_fields.notes",
    }


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [("Ana Lima", "Ana", "Lima"), ("Lima, Ana", "Ana", "Lima"), ("Madonna", "Madonna", None),
     ("Mary Ann Smith", "Mary Ann", "Smith"), ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
     ("John Smith Jr.", "John", "Smith Jr.")],
)  # fmt: skip
def test_full_names_split(full: str, first: str, last: str | None) -> None:
    assert split_full_name(full) == (first, last)


def test_a_full_name_column_fills_first_and_last_name() -> None:
    mapper = RowMapper("contacts", {"Name": "full_name", "Mail": "email"})
    out = mapper.map({"Name": "ANA LIMA", "Mail": "a@example.com"})
    assert out.fields == {"email": "a@example.com", "first_name": "Ana", "last_name": "Lima"}


REPORT = "Leads report\nRun on 2026-12-05,,\n\nName,Email,Phone\nAna,a@example.com,\n"


def test_the_header_row_is_found_below_title_rows(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(REPORT)
    reader = open_table(path, path.name, LIMITS)
    assert reader.info.headers == ["Name", "Email", "Phone"]
    assert [r.values["Email"] for r in reader.rows()] == ["a@example.com"]
    chosen = open_table(path, path.name, LIMITS, header_row=5)
    assert chosen.info.headers == ["Ana", "a@example.com", "column_3"]
    with pytest.raises(UnreadableFile, match="line 3 is blank"):
        open_table(path, path.name, LIMITS, header_row=3)


def test_the_header_row_of_a_sheet_is_found_below_title_rows(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Quarterly leads"], [], ["Name", "Email"], ["Ana", "a@example.com"]):
        sheet.append(row)
    path = tmp_path / "leads.xlsx"
    book.save(path)
    reader = open_table(path, path.name, LIMITS)
    assert reader.info.headers == ["Name", "Email"]
    assert [(r.line, r.values) for r in reader.rows()] == [
        (4, {"Name": "Ana", "Email": "a@example.com"})
    ]


def test_mapping_files_carry_value_maps() -> None:
    columns, maps = read_mapping_text(
        "Email: email\nStatus: {field: status, values: {Hot: QUALIFIED}, unknown: keep}\n"
        "Id: external_ref\n",
        "leads",
    )
    assert columns == {"Email": "email", "Status": "status", "Id": "external_ref"}
    assert maps == {"Status": ValueMap(values={"Hot": "QUALIFIED"}, unknown="keep")}
    document = """
provider: salesforce
objects:
  leads:
    remote_object: Lead
    fields:
      - {source: external_ref, target: Lead ID}
      - {source: email, target: Email}
      - {source: status, target: Lead Status, transforms: [{status_map: lead_status}]}
status_maps:
  lead_status:
    outbound: {NEW: Open - Not Contacted, LOST: Closed - Not Converted}
"""
    columns, maps = read_mapping_text(document, "leads")
    assert columns == {"Lead ID": "external_ref", "Email": "email", "Lead Status": "status"}
    assert maps["Lead Status"].values == {
        "Open - Not Contacted": "NEW",
        "Closed - Not Converted": "LOST",
    }
    with pytest.raises(MappingFileError, match="unknown=default needs a default"):
        read_mapping_text("Status: {field: status, unknown: default}\n", "leads")


def test_an_integrations_status_map_is_reused(
    db: Session, make_tenant: Callable[[], Tenant]
) -> None:
    tenant, other = make_tenant(), make_tenant()
    integration = Integration(workspace_id=tenant.id, provider="hubspot", name="hs", config={})
    db.add(integration)
    db.flush()
    wanted = {"Status": ValueMap(status_map=f"{integration.id}/lead_status", values={"X": "NEW"})}
    (resolved,) = resolve_value_maps(db, tenant.id, wanted).values()
    assert resolved.status_map is None
    assert resolved.values["ATTEMPTED_TO_CONTACT"] == "CONTACTED"
    assert resolved.values["X"] == "NEW"
    with pytest.raises(InvalidOptions, match="nor an integration of this workspace"):
        resolve_value_maps(db, other.id, wanted)  # another workspace's integration
    with pytest.raises(InvalidOptions, match="has no status map 'nope'"):
        resolve_value_maps(db, tenant.id, {"S": ValueMap(status_map="salesforce/nope")})
