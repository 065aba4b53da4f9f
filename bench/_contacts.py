"""Realistic, reproducible contacts: API payloads for upserts and table rows for bulk loads."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = [
    "Maria",
    "James",
    "Priya",
    "Tom",
    "Aiko",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Ava",
    "Sofia",
    "Mateo",
    "Chen",
    "Wei",
    "Fatima",
    "Omar",
    "Grace",
    "Ethan",
    "Isabella",
    "Lucas",
    "Mia",
    "Amara",
    "Kenji",
    "Zoe",
    "Diego",
    "Hannah",
    "Ravi",
    "Leah",
    "Samuel",
    "Nora",
]
LAST = [
    "Garcia",
    "O'Neil",
    "Shah",
    "Becker",
    "Tanaka",
    "Smith",
    "Johnson",
    "Brown",
    "Nguyen",
    "Kim",
    "Patel",
    "Lopez",
    "Müller",
    "Rossi",
    "Okafor",
    "Cohen",
    "Silva",
    "Novak",
    "Jensen",
    "Walsh",
    "Haddad",
    "Ivanova",
    "Dubois",
    "Moreau",
    "Costa",
    "Yamamoto",
    "Reyes",
]
DOMAINS = ("example.com", "mail.example", "inbox.example", "corp.example", "home.example")
COMPANIES = (
    "Harbor Realty",
    "Summit Home Loans",
    "Evergreen Mortgage",
    "Lakeside Properties",
    "Redwood Title",
    "Bayview Brokers",
    None,
)
# City, state, an area code valid there (phone numbers must normalise to a real E.164).
PLACES = (
    ("Seattle", "WA", "206"),
    ("Denver", "CO", "303"),
    ("Austin", "TX", "512"),
    ("Boston", "MA", "617"),
    ("Chicago", "IL", "312"),
    ("Miami", "FL", "305"),
    ("Portland", "OR", "503"),
    ("Atlanta", "GA", "404"),
)
CONTACT_TYPES = ("borrower", "realtor", "loan_officer", "customer", "partner", None)
STAGES = ("lead", "marketing_qualified", "sales_qualified", "opportunity", "customer")
UTM = (
    ("google", "cpc", "spring-rates"),
    ("facebook", "social", "first-home"),
    ("newsletter", "email", "refi-2026"),
    ("zillow", "referral", "listing-42"),
    (None, None, None),
)
SOURCES = ("website", "open-house", "referral", "import", "partner-api")
JOB_TITLES = ("Loan Officer", "Realtor", "Teacher", "Engineer", "Nurse", None)
# About a third of contacts come with the app's own id; the rest match by email.
EXTERNAL_REF_SHARE = 0.3


@dataclass(frozen=True)
class Person:
    """One generated contact: its API payload and the phone's E.164 form."""

    payload: dict[str, Any]
    phone_key: str


def person(rng: random.Random, n: int) -> Person:
    """Contact number ``n``; its email is unique because it carries ``n``."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, state, area = rng.choice(PLACES)
    utm_source, utm_medium, utm_campaign = rng.choice(UTM)
    exchange, line = rng.randint(201, 989), rng.randint(0, 9999)
    local = last.lower().replace("'", "").replace("ü", "u")
    payload: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{local}.{n}@{rng.choice(DOMAINS)}",
        "phone": f"({area}) {exchange}-{line:04d}",
        "company": rng.choice(COMPANIES),
        "job_title": rng.choice(JOB_TITLES),
        "contact_type": rng.choice(CONTACT_TYPES),
        "lifecycle_stage": rng.choice(STAGES),
        "source": rng.choice(SOURCES),
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "city": city,
        "state": state,
        "country": "US",
    }
    if rng.random() < EXTERNAL_REF_SHARE:
        payload["external_ref"] = f"app-{n}"
    # Sparse payloads, as apps send them: a missing field is not the same as a null one.
    payload = {k: v for k, v in payload.items() if v is not None}
    return Person(payload, f"+1{area}{exchange}{line:04d}")


def payloads(count: int, seed: int = 7, first: int = 0) -> list[dict[str, Any]]:
    """Contacts numbered from ``first``: sets with different ``first`` never share an email."""
    rng = random.Random(seed)
    return [person(rng, n).payload for n in range(first, first + count)]


def changed(payload: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same contact as a CRM would send it later: same match key, two fields moved on."""
    stage = rng.choice([s for s in STAGES if s != payload.get("lifecycle_stage")])
    return {**payload, "lifecycle_stage": stage, "engagement_score": round(rng.random() * 100, 1)}


def rows(
    workspace_id: uuid.UUID, count: int, first: int, seed: int = 11
) -> Iterator[dict[str, Any]]:
    """Contacts table rows numbered from ``first``, last changed over the past year in order."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    for i in range(count):
        made = person(rng, first + i)
        at = start + step * i
        row = {name: made.payload.get(name) for name in PAYLOAD_FIELDS}
        row |= {
            "id": uuid.uuid4(),
            "workspace_id": workspace_id,
            "email_key": made.payload["email"].lower(),
            "phone_key": made.phone_key,
            "created_at": at,
            "updated_at": at,
            "version": 1,
            "custom_fields": {},
            "social_profiles": {},
        }
        yield row


PAYLOAD_FIELDS = (
    "external_ref",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "contact_type",
    "lifecycle_stage",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "city",
    "state",
    "country",
)
#: Every column ``rows`` fills, in a fixed order (bulk loaders need one shape for all rows).
COLUMNS = (
    *PAYLOAD_FIELDS,
    "id",
    "workspace_id",
    "email_key",
    "phone_key",
    "created_at",
    "updated_at",
    "version",
    "custom_fields",
    "social_profiles",
)
