"""Cleansing of records with a report of every change and why it was made.

Steps, each of which can be switched off: remove invisible characters, trim and
collapse whitespace, normalise e-mail addresses (and suggest fixes for likely domain
typos), convert phones to E.164, capitalise names. Values a step cannot improve (an
invalid phone, say) are left as they are for validation to report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from crmsync.quality.cleansing_email import suggest_email
from crmsync.quality.cleansing_names import capitalise_name
from crmsync.quality.normalize import normalize_email, normalize_phone, strip_invisible

_SPACES: Final = re.compile(r"\s+")

REASON_INVISIBLE: Final = "invisible characters removed"
REASON_TRIM: Final = "whitespace trimmed"
REASON_EMAIL: Final = "e-mail address normalised"
REASON_PHONE: Final = "phone number converted to E.164"
REASON_NAME: Final = "name capitalised"


class CleansingOptions(BaseModel):
    """Which steps run, on which fields, with which default phone region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    invisible: bool = True
    trim: bool = True
    email: bool = True
    email_typos: bool = True
    phone: bool = True
    names: bool = True
    region: str = "US"
    email_fields: tuple[str, ...] = ("email",)
    phone_fields: tuple[str, ...] = ("phone",)
    name_fields: tuple[str, ...] = ("first_name", "last_name")


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    from_: Any
    to: Any
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "from": self.from_, "to": self.to, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A likely fix that is not applied (e.g. ``gmial.com`` -> ``gmail.com``)."""

    field: str
    value: Any
    suggestion: str
    reason: str


@dataclass(slots=True)
class CleansingReport:
    original: dict[str, Any]
    cleaned: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)


def clean_text(value: str, options: CleansingOptions) -> list[tuple[str, str]]:
    """Successive (new value, reason) of the text steps for one string."""
    steps: list[tuple[str, str]] = []
    if options.invisible:
        cleaned = strip_invisible(value)
        if cleaned != value:
            steps.append((cleaned, REASON_INVISIBLE))
            value = cleaned
    if options.trim:
        cleaned = _SPACES.sub(" ", value).strip()
        if cleaned != value:
            steps.append((cleaned, REASON_TRIM))
    return steps


def clean_field(name: str, value: str, options: CleansingOptions) -> list[tuple[str, str]]:
    """Successive (new value, reason) of every step for one field's string value."""
    steps = clean_text(value, options)
    current = steps[-1][0] if steps else value
    new: str | None = None
    reason = ""
    if options.email and name in options.email_fields:
        new, reason = normalize_email(current), REASON_EMAIL
    elif options.phone and name in options.phone_fields:
        new, reason = normalize_phone(current, options.region), REASON_PHONE
    elif options.names and name in options.name_fields:
        new, reason = capitalise_name(current), REASON_NAME
    if new is not None and new != current:
        steps.append((new, reason))
    return steps


def email_suggestion(name: str, value: Any, options: CleansingOptions) -> Suggestion | None:
    if not (options.email_typos and name in options.email_fields and isinstance(value, str)):
        return None
    fixed = suggest_email(value)
    if fixed is None:
        return None
    return Suggestion(name, value, fixed, "likely typo in the e-mail domain")


def cleanse_record(
    record: Mapping[str, Any], options: CleansingOptions | None = None
) -> CleansingReport:
    """The cleaned copy of ``record`` (top-level text fields) and what changed."""
    options = options or CleansingOptions()
    cleaned = dict(record)
    report = CleansingReport(original=dict(record), cleaned=cleaned)
    for name, value in record.items():
        if not isinstance(value, str):
            continue
        previous = value
        for new, reason in clean_field(name, value, options):
            report.changes.append(Change(name, previous, new, reason))
            previous = new
        cleaned[name] = previous
        suggestion = email_suggestion(name, previous, options)
        if suggestion is not None:
            report.suggestions.append(suggestion)
    return report
