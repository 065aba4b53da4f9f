"""THE field table: each record type crmsync stores, with its fields in order.

Adding a record type is one ``ObjectType`` member and one ``TABLE`` entry here, plus its
store model and migration (``crmsync/store/models/records.py``); the API schemas, the
mapping schema, templates, synonyms, relations and docs follow from the entry.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Final

from crmsync.fields import shared as S
from crmsync.fields.enums import (
    ActivityDirection,
    ActivityType,
    ContactType,
    LeadStatus,
    PropertyStatus,
    TicketStatus,
)
from crmsync.fields.spec import CanonicalField as Field
from crmsync.fields.spec import FieldType as F
from crmsync.fields.spec import NumberKind, RecordSpec


class ObjectType(StrEnum):
    """Record types: the API's paths, the store's tables, the mappings' objects."""

    CONTACTS = "contacts"
    LEADS = "leads"
    DEALS = "deals"
    COMPANIES = "companies"
    PROPERTIES = "properties"
    ACTIVITIES = "activities"
    NOTES = "notes"
    TICKETS = "tickets"


def _utm(part: str, *synonyms: str) -> Field:
    return Field(f"utm_{part}", F.STRING, f"UTM {part}", max_length=255, synonyms=synonyms)


_MONEY: Final = NumberKind.DECIMAL
_CURRENCY: Final = Field(
    "currency", F.STRING, pattern=r"^[A-Z]{3}$", example="USD", description="ISO 4217 code.",
    synonyms=("currency code", "curr", "ccy", "iso currency"),
)  # fmt: skip
_LONG_TEXT: Final = 100_000

TABLE: Final[dict[ObjectType, RecordSpec]] = {
    ObjectType.CONTACTS: RecordSpec("Contact", importable=True,
        description="A person: a borrower, a realtor, a customer.", fields=(
        S.EMAIL,
        S.PHONE,
        S.FIRST_NAME,
        S.LAST_NAME,
        Field("company", F.STRING, "Company name", max_length=255,
              synonyms=("company name", "organisation", "organization", "employer", "business",
                        "business name", "firm", "account name", "org", "organisation name",
                        "organization name", "employer name", "company nm"),
              translations=("empresa", "compania", "societe", "entreprise", "firma",
                            "unternehmen", "organizacion", "companhia", "raison sociale",
                            "firmenname")),
        S.COMPANY_ID,
        Field("job_title", F.STRING, max_length=255,
              synonyms=("title", "job title", "position", "role", "designation", "occupation",
                        "job", "job role", "job position", "position title"),
              translations=("cargo", "puesto", "titulo", "poste", "fonction", "titre",
                            "berufsbezeichnung", "stelle", "funcao", "profissao")),
        Field("contact_type", F.ENUM, enum=ContactType, example="borrower",
              synonyms=("type", "contact type", "category", "persona", "relationship",
                        "contact category", "client type", "customer type")),
        Field("lifecycle_stage", F.STRING, max_length=50,
              synonyms=("lifecycle", "lifecycle stage", "funnel stage", "life cycle stage",
                        "marketing stage")),
        S.STATUS,
        S.SOURCE,
        _utm("source", "utm source", "campaign source"),
        _utm("medium", "utm medium", "campaign medium", "medium"),
        _utm("campaign", "utm campaign", "campaign", "campaign name"),
        _utm("term", "utm term", "keyword", "search term", "campaign term", "keywords"),
        _utm("content", "utm content", "ad content", "campaign content", "ad variant"),
        S.ADDRESS_LINE1,
        Field("address_line2", F.STRING, "Address line 2", max_length=255,
              synonyms=("address 2", "address line 2", "apt", "suite", "unit", "apartment",
                        "addr2", "addr 2", "street2", "street 2", "address line2",
                        "apt suite")),
        S.CITY,
        S.STATE,
        S.POSTAL_CODE,
        S.COUNTRY,
        Field("date_of_birth", F.DATE, example="1980-04-30",
              synonyms=("birth date", "birthdate", "dob", "birthday", "date of birth"),
              translations=("fecha de nacimiento", "date de naissance", "geburtsdatum",
                            "data de nascimento")),
        S.OWNER,
        Field("engagement_score", F.NUMBER,
              synonyms=("score", "lead score", "engagement", "rating", "hubspot score")),
        Field("social_profiles", F.OBJECT, text_values=True,
              description="Network name -> profile URL.",
              synonyms=("social", "linkedin", "twitter", "facebook", "social profiles",
                        "linkedin url", "social media", "instagram")),
    )),
    ObjectType.LEADS: RecordSpec("Lead", importable=True,
        description="Someone who asked about a property or a loan, not yet won.", fields=(
        replace(S.STATUS, type=F.ENUM, max_length=None, enum=LeadStatus, default=LeadStatus.NEW,
                label="Lead status",
                preferred=("lead status", "stage", "lead stage", "status")),
        S.SOURCE,
        Field("budget_min", F.NUMBER, number=_MONEY, max_digits=14, minimum=0,
              synonyms=("min budget", "budget from", "minimum budget", "budget min",
                        "price from", "min price", "budget low", "lower budget",
                        "minimum price", "budget minimum", "price min", "budget lower")),
        Field("budget_max", F.NUMBER, number=_MONEY, max_digits=14, minimum=0,
              synonyms=("max budget", "budget", "budget to", "maximum budget", "price to",
                        "max price", "budget high", "upper budget", "maximum price",
                        "budget maximum", "price max", "budget upper", "price range"),
              translations=("presupuesto", "presupuesto maximo", "budget maximum",
                            "orcamento")),
        Field("preferred_areas", F.LIST, max_length=100,
              synonyms=("areas", "preferred areas", "locations", "preferred locations",
                        "neighbourhoods", "neighborhoods", "area of interest",
                        "areas of interest", "desired area", "desired areas", "zones",
                        "preferred neighborhoods", "area", "location preference",
                        "target areas", "preferred location")),
        Field("property_ref", F.STRING, "Property reference", max_length=255,
              synonyms=("property", "property ref", "property id", "listing", "listing id",
                        "mls", "mls number", "mls id", "property reference", "property code",
                        "listing ref", "unit ref", "property of interest", "listing number")),
        Field("assigned_agent", F.STRING, max_length=255,
              synonyms=("agent", "assigned agent", "assigned to", "realtor", "sales agent",
                        "rep", "handler", "agent name", "lead owner", "owner", "assignee",
                        "listing agent", "loan officer")),
        S.CONTACT_ID,
        S.reference("property_id", "properties"),
        S.FIRST_NAME,
        S.LAST_NAME,
        S.EMAIL,
        S.PHONE,
        Field("notes", F.STRING, max_length=_LONG_TEXT,
              synonyms=("note", "comments", "comment", "remarks", "message", "description",
                        "details", "additional info", "additional information", "memo"),
              translations=("notas", "comentarios", "observaciones", "remarques",
                            "commentaires", "notizen", "bemerkungen", "kommentar",
                            "observacoes", "comentario")),
    )),
    ObjectType.DEALS: RecordSpec("Deal", importable=True,
        description="A sale on its way through a pipeline.", fields=(
        replace(S.NAME, label="Deal name"),
        Field("pipeline", F.STRING, max_length=100,
              synonyms=("sales pipeline", "pipeline name", "process", "funnel")),
        Field("stage", F.STRING, max_length=100,
              synonyms=("deal stage", "pipeline stage", "sales stage", "status", "phase",
                        "opportunity stage", "stage name", "deal status"),
              translations=("etapa", "fase", "etape", "phase de vente", "estagio")),
        Field("amount", F.NUMBER, number=_MONEY, max_digits=16, example="250000",
              synonyms=("value", "deal value", "deal amount", "revenue", "price", "total",
                        "opportunity amount", "deal size", "loan amount", "amount usd",
                        "expected revenue", "contract value", "sale price"),
              translations=("importe", "monto", "montant", "betrag", "valor", "valeur",
                            "montante")),
        _CURRENCY,
        Field("probability", F.NUMBER, minimum=0, maximum=1,
              description="Chance of winning, from 0 to 1.",
              synonyms=("win probability", "likelihood", "chance", "win",
                        "probability percent", "win percent", "chance of winning",
                        "confidence", "deal probability")),
        Field("close_date", F.DATE, example="2026-12-31",
              synonyms=("close date", "closing date", "expected close", "expected close date",
                        "closedate", "close by", "target date", "est close date",
                        "estimated close", "estimated close date", "expected closing date",
                        "date closed", "closed on", "close"),
              translations=("fecha de cierre", "date de cloture", "abschlussdatum",
                            "data de fecho", "data de fechamento")),
        S.CONTACT_ID,
        S.COMPANY_ID,
        replace(S.OWNER, preferred=("deal owner", "opportunity owner", "assigned to", "owner")),
    )),
    ObjectType.COMPANIES: RecordSpec("Company", importable=True,
        description="An organisation that contacts and deals belong to.", fields=(
        replace(S.NAME, label="Company name"),
        Field("domain", F.STRING, max_length=255, searchable=True,
              synonyms=("website", "url", "web", "site", "homepage", "web site",
                        "company domain", "website url")),
        Field("industry", F.STRING, max_length=100,
              synonyms=("sector", "vertical", "business type", "industry type"),
              translations=("sector", "industria", "secteur", "branche", "setor")),
        S.PHONE,
        S.ADDRESS_LINE1,
        S.CITY,
        S.STATE,
        S.POSTAL_CODE,
        S.COUNTRY,
        Field("employees", F.NUMBER, number=NumberKind.INTEGER, minimum=0,
              synonyms=("employee count", "number of employees", "headcount", "staff",
                        "company size", "size", "no of employees", "num employees")),
        S.OWNER,
    )),
    ObjectType.PROPERTIES: RecordSpec("Property",
        description="A real-estate listing that leads ask about (the realtor platform).",
        fields=(
        Field("title", F.STRING, max_length=255, required=True, searchable=True,
              example="3-bed flat, Riverside", synonyms=("listing title", "property title")),
        Field("price", F.NUMBER, number=_MONEY, max_digits=16, minimum=0, example="450000",
              synonyms=("asking price", "list price", "listing price")),
        _CURRENCY,
        replace(S.CITY, searchable=True),
        Field("locality", F.STRING, max_length=100, searchable=True,
              synonyms=("neighbourhood", "neighborhood", "district", "area")),
        replace(S.STATUS, type=F.ENUM, max_length=None, enum=PropertyStatus,
                default=PropertyStatus.AVAILABLE, example=None, label="Listing status"),
        S.OWNER,
    )),
    ObjectType.ACTIVITIES: RecordSpec("Activity",
        description="Something that happened: a message, a call, a loan milestone.", fields=(
        Field("type", F.ENUM, enum=ActivityType, required=True),
        Field("direction", F.ENUM, enum=ActivityDirection),
        Field("subject", F.STRING, max_length=255, searchable=True),
        Field("body", F.STRING, max_length=_LONG_TEXT),
        Field("occurred_at", F.DATETIME, description="When it happened; now if not given."),
        Field("data", F.OBJECT, description="Whatever else the source tells about it."),
        S.CONTACT_ID,
        S.LEAD_ID,
        S.DEAL_ID,
    )),
    ObjectType.NOTES: RecordSpec("Note",
        description="Free text about a contact, a lead or a deal.", fields=(
        Field("body", F.STRING, max_length=_LONG_TEXT, required=True, searchable=True),
        Field("author", F.STRING, max_length=255),
        S.CONTACT_ID,
        S.LEAD_ID,
        S.DEAL_ID,
    )),
    ObjectType.TICKETS: RecordSpec("Ticket", description="A support request.", fields=(
        Field("subject", F.STRING, max_length=255, required=True, searchable=True),
        Field("description", F.STRING, max_length=_LONG_TEXT),
        replace(S.STATUS, type=F.ENUM, max_length=None, enum=TicketStatus,
                default=TicketStatus.OPEN, example=None),
        Field("priority", F.STRING, pattern=r"^(low|medium|high|urgent)$",
              description="low, medium, high or urgent."),
        S.CONTACT_ID,
        S.OWNER,
    )),
}  # fmt: skip
