"""Lead files shaped like real exports: what a broker actually uploads.

Each function writes one file into a folder and returns (path, the options an import of
it needs: object type, sheet, region). Values are realistic: CRM status picklists, ids,
title rows and footers of a report, full names, local phone numbers, a second sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

Export = tuple[Path, dict[str, Any]]


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def salesforce_report(folder: Path) -> Export:
    """A Salesforce lead report exported as CSV: title lines above the header, a footer."""
    rows: list[list[Any]] = [
        ["Open Leads by Owner"],
        ["Filtered By: Lead Status not equal to Closed - Converted"],
        [],
        ["Lead ID", "First Name", "Last Name", "Email", "Phone", "Lead Status", "Lead Source",
         "Created Date"],
        ["00Q5f00000AbCdE001", "Ana", "Lima", "ana.lima@example.com", "(415) 555-2671",
         "Open - Not Contacted", "Web", "12/1/2026"],
        ["00Q5f00000AbCdE002", "Bo", "Chen", "bo.chen@example.com", "(212) 555-0134",
         "Working - Contacted", "Phone Inquiry", "12/1/2026"],
        ["00Q5f00000AbCdE003", "Cy", "Diaz", "cy.diaz@example", "(312) 555-0188",
         "Qualified", "Partner Referral", "12/2/2026"],
        ["00Q5f00000AbCdE004", "Dee", "Evans", "dee@example.com", "555-01",
         "Closed - Not Converted", "Web", "12/2/2026"],
        ["00Q5f00000AbCdE005", "Ed", "Fox", "ed.fox@example.com", "", "Nurturing", "Web",
         "12/3/2026"],
        ["00Q5f00000AbCdE006", "Ana", "Lima", "ANA.LIMA@example.com", "(415) 555-2671",
         "Working - Contacted", "Web", "12/3/2026"],
        [],
        ["Grand Totals (6 records)"],
        ["Confidential Information - Do Not Distribute"],
    ]  # fmt: skip
    path = folder / "report1733400000000.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return path, {"object_type": "leads"}


def salesforce_opportunities(folder: Path) -> Export:
    """A Salesforce opportunity report from a US org: currency amounts, US dates."""
    rows: list[list[Any]] = [
        ["Opportunity Name", "Account Name", "Amount", "Close Date", "Stage",
         "Probability (%)", "Opportunity Owner", "Opportunity ID"],
        ["Garcia refinance", "Garcia Realty", "$350,000.00", "6/30/2026", "Prospecting", "10",
         "Ann Owner", "0065e00000XyZ01"],
        ["Smith purchase", "First Bank", "USD 1,250,000.00", "12/31/2026", "Closed Won", "100",
         "Ann Owner", "0065e00000XyZ02"],
        ["Nguyen HELOC", "Nguyen Homes", "", "4/1/2026", "Closed Lost - Duplicate", "0",
         "Bob Owner", "0065e00000XyZ03"],
        [],
        ["Grand Totals (3 records)"],
    ]  # fmt: skip
    path = folder / "report1733400000001.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return path, {"object_type": "deals"}


def hubspot_export(folder: Path) -> Export:
    """A HubSpot contacts export: Record ID, lifecycle stage, owner, create date."""
    rows: list[list[Any]] = [
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Lifecycle Stage",
         "Contact owner", "Company Name", "Create Date"],
        ["51", "Gil", "Hart", "gil@hart.example", "+1 617 555 0101", "lead", "Sam Rep",
         "Hart Realty", "2026-11-30 10:14"],
        ["52", "Ivy", "Jones", "ivy@jones.example", "", "customer", "Sam Rep", "", "2026-11-30"],
        ["53", "", "", "", "", "subscriber", "", "", "2026-12-01"],
        ["54", "Kai", "Lee", "kai@lee.example", "+44 20 7946 0958", "opportunity", "",
         "Lee & Co", "2026-12-01"],
    ]  # fmt: skip
    path = folder / "hubspot-crm-exports-all-contacts-2026-12-05.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return path, {"object_type": "contacts"}


def pipedrive_export(folder: Path) -> Export:
    """A Pipedrive people export: 'Person - ' prefixes, one full-name column, labels."""
    rows: list[list[Any]] = [
        ["Person - ID", "Person - Name", "Person - Email", "Person - Phone",
         "Person - Organization", "Person - Label", "Person - Owner"],
        ["101", "Mia van der Berg", "mia@berg.example", "+31 20 555 0199", "Berg BV", "Hot lead",
         "Pat Owner"],
        ["102", "Noah Smith Jr.", "noah@smith.example", "(702) 555-0147", "", "Cold lead",
         "Pat Owner"],
        ["103", "Olga", "olga@example.com", "", "", "", ""],
        ["104", "Pablo Ruiz", "not an email", "12", "", "Warm lead", ""],
    ]  # fmt: skip
    path = folder / "people-12345-67.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return path, {"object_type": "contacts"}


def excel_sheets(folder: Path) -> Export:
    """A workbook whose first sheet is a summary; the leads are on 'Leads', below a title."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append(["Total leads", 3])
    summary.append(["By status"])
    leads = book.create_sheet("Leads")
    leads.append(["Q4 leads from the spring fair"])
    leads.append([])
    leads.append(["Full Name", "E-mail", "Mobile", "Status", "Budget", "Loan Amount"])
    leads.append(["Quinn Rao", "quinn@rao.example", "(305) 555-0111", "NEW", 450000, 360000])
    leads.append(["Rosa Sanz", "rosa@sanz.example", "(404) 555-0122", "lost", "500,000", ""])
    leads.append(["Sven Toll", "sven@toll.example", "", "Converted", "n/a", 200000])
    path = folder / "fair-leads.xlsx"
    book.save(path)
    return path, {"object_type": "leads", "sheet": "Leads"}


def broker_spanish(folder: Path) -> Export:
    """A broker's hand-made file in Spanish: semicolons, accents, local phone numbers."""
    rows: list[list[Any]] = [
        ["Nombre", "Apellidos", "Correo electrónico", "Teléfono", "Estado", "Origen",
         "Notas"],
        ["José", "García López", "jose.garcia@correo.example", "612 345 678", "Nuevo",
         "Feria", "Busca piso en Madrid"],
        ["María", "Núñez", "maria@correo.example", "+34 699 111 222", "Contactado", "Web", ""],
        ["Lucía", "Ortega", "", "91 123 45 67", "Cualificado", "Referido", "Llamar tarde"],
        ["Íñigo", "Pérez", "inigo@", "", "perdido", "Web", ""],
    ]  # fmt: skip
    text = _csv(rows).replace(",", ";")
    path = folder / "clientes_diciembre.csv"
    path.write_bytes(text.encode("cp1252"))
    return path, {"object_type": "leads", "region": "ES"}


EXPORTS: dict[str, Callable[[Path], Export]] = {
    f.__name__: f
    for f in (
        salesforce_report,
        salesforce_opportunities,
        hubspot_export,
        pipedrive_export,
        excel_sheets,
        broker_spanish,
    )
}


# -- shapes the preview hints are about (tests/imports/test_preview_hints.py) --

PIPEDRIVE_HEADERS = [
    "Person - ID", "Person - Name", "Email - Work", "Email - Home", "Phone - Work",
    "Phone - Home", "Phone - Mobile", "Person - Organization",
]  # fmt: skip


def french_export(country: str | None = "France") -> str:
    """50 contacts of a French CRM: landlines and mobiles written the French way, 2 bad."""
    header = ["Prénom", "Nom", "Courriel", "Téléphone", "Ville"] + (["Pays"] if country else [])
    rows = [header]
    for i in range(50):
        phone = f"01 42 68 {i:02d} 00" if i % 2 else f"06 12 34 {i:02d} 78"
        phone = "12" if i in (7, 23) else phone
        row = [f"Jean{i}", "Dupont", f"jean{i}@exemple.fr", phone, "Paris"]
        rows.append(row + ([country] if country else []))
    return _csv(rows)


def pipedrive_persons() -> str:
    """A Pipedrive persons export with a work, home and mobile phone and two e-mails."""
    rows = [
        PIPEDRIVE_HEADERS,
        ["101", "Mia Berg", "mia@berg.example", "mia@home.example", "+1 212 555 0101", "",
         "+1 917 555 0101", "Berg BV"],
        ["102", "Noah Smith", "noah@smith.example", "", "(702) 555-0147", "(702) 555-0199",
         "", ""],
        ["103", "Olga Ivanova", "olga@example.com", "olga@home.example", "", "(212) 555-0100",
         "(917) 555-0102", ""],
    ]  # fmt: skip
    return _csv(rows)
