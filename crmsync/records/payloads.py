"""Turn client payloads into validated column values, and rows back into JSON-able dicts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crmsync.jsonlimits import DEFAULT as JSON_LIMITS
from crmsync.jsonlimits import JsonRefused
from crmsync.quality.batch_phone import normalize_phones
from crmsync.quality.normalize import normalize_email, normalize_phone
from crmsync.records.errors import RecordInvalid
from crmsync.records.schemas import CREATE_SCHEMAS, PATCH_SCHEMAS, PLAIN_TEXT, READ_ONLY_FIELDS
from crmsync.store.models import RECORD_MODELS, RecordBase

# Derived match keys: stored for lookups, never shown or written by clients.
INTERNAL_FIELDS = frozenset({"email_key", "phone_key"})


def singular(record_type: str) -> str:
    """``contacts`` -> ``contact``, ``companies`` -> ``company``, for messages."""
    if record_type.endswith("ies"):
        return record_type[:-3] + "y"
    return record_type.removesuffix("s")


def model_for(record_type: str) -> type[RecordBase]:
    try:
        return RECORD_MODELS[record_type]
    except KeyError:
        known = ", ".join(RECORD_MODELS)
        raise RecordInvalid(f"unknown record type {record_type!r}; known: {known}") from None


def describe_validation_error(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as ``[{field, message}]``, naming each offending field."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        problem = err.get("ctx", {}).get("error")
        if isinstance(problem, JsonRefused):  # a limit of the whole payload: name the spot
            field, message = problem.path or field, problem.message
        out.append({"field": field, "message": message})
    return out


def _summary(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors)


@cache
def _required_and_defaults(record_type: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    schema = CREATE_SCHEMAS[record_type]
    required = tuple(n for n, f in schema.model_fields.items() if f.is_required())
    defaults = {
        n: f.default
        for n, f in schema.model_fields.items()
        if not f.is_required() and f.default is not None
    }
    return required, defaults


def parse_fields(record_type: str, payload: Any) -> dict[str, Any]:
    """Validate the fields a payload sets; read-only fields such as ``id`` are dropped."""
    if not isinstance(payload, dict):
        raise RecordInvalid("a record must be a JSON object")
    body = {k: v for k, v in payload.items() if k not in READ_ONLY_FIELDS}
    try:
        parsed = PATCH_SCHEMAS[record_type].model_validate(body)
    except ValidationError as exc:
        errors = describe_validation_error(exc)
        raise RecordInvalid(_summary(errors), errors) from None
    fields = parsed.model_dump(exclude_unset=True)
    # A patch may clear optional fields only: the ones a record must have stay set.
    required, defaults = _required_and_defaults(record_type)
    cleared = [
        {"field": n, "message": "may not be null"}
        for n in (*required, *defaults)
        if n in fields and fields[n] is None
    ]
    if cleared:
        raise RecordInvalid(_summary(cleared), cleared)
    return fields


@cache
def _plain_limits(record_type: str) -> tuple[dict[str, int], dict[str, int]]:
    """The plain text fields of a record type with their longest value, and the schema's
    position of each field (``parse_fields`` answers in that order)."""
    most = JSON_LIMITS.max_string
    limits = {n: min(most, limit or most) for n, limit in PLAIN_TEXT[record_type].items()}
    return limits, {n: i for i, n in enumerate(PATCH_SCHEMAS[record_type].model_fields)}


_ABSENT: Any = object()


def _plain_value(value: Any, longest: int) -> bool:
    """Whether ``parse_fields`` keeps this value of a plain text field as it is."""
    return (
        value.__class__ is str
        and 0 < len(value) <= longest
        and value.isascii()
        and value.isprintable()
        and value[0] != " "
        and value[-1] != " "
    )


def plain_rows(record_type: str, rows: list[dict[str, Any]]) -> list[bool]:
    """For each payload, whether ``parse_fields`` would accept it and answer it unchanged
    (in the schema's order: ``in_schema_order``), judged a column at a time.

    A payload qualifies when it sets only plain text fields (``schemas.PLAIN_TEXT``), each
    to printable ASCII text within the field's length, with no space at either end (what
    the model would strip) and not empty (an empty ``external_ref`` is None). Anything
    else is left to ``parse_fields``: False is "not known", never "refused".
    """
    limits, _order = _plain_limits(record_type)
    plain = [fields.keys() <= limits.keys() for fields in rows]
    names = {name for fields in rows for name in fields}
    for name in names & limits.keys():
        longest = limits[name]
        column = [fields.get(name, _ABSENT) for fields in rows]
        texts = [v for v in column if v is not _ABSENT]
        if {*map(type, texts)} == {str}:
            joined = "\x00".join(texts)  # a value's edges are next to a NUL or the ends
            if (
                "" not in texts
                and max(map(len, texts)) <= longest
                and joined.isascii()
                and "".join(texts).isprintable()
                and not joined.startswith(" ")
                and not joined.endswith(" ")
                and " \x00" not in joined
                and "\x00 " not in joined
            ):
                continue  # the whole column is plain
        for i, value in enumerate(column):
            if value is not _ABSENT and not _plain_value(value, longest):
                plain[i] = False
    return plain


def in_schema_order(record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A payload ``plain_rows`` passed, as ``parse_fields`` answers it."""
    order = _plain_limits(record_type)[1]
    return {name: fields[name] for name in sorted(fields, key=order.__getitem__)}


def complete_for_create(record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Check required fields and fill defaults for a record about to be created."""
    required, defaults = _required_and_defaults(record_type)
    missing = [{"field": n, "message": "field required"} for n in required if fields.get(n) is None]
    if missing:
        raise RecordInvalid(_summary(missing), missing)
    row = {**defaults, **fields}
    if None in row.values():  # a field given as null keeps its default, or is left out
        for name in [k for k, v in fields.items() if v is None]:
            if name in defaults:
                row[name] = defaults[name]
            else:
                del row[name]
    return row


def derive_keys(
    record_type: str,
    values: dict[str, Any],
    region: str,
    phones: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Match keys that follow from the values being written (contacts only).

    ``phones`` holds phone keys worked out beforehand for a whole batch (``phone_keys``).
    """
    if record_type != "contacts":
        return {}
    keys: dict[str, Any] = {}
    if "email" in values:
        keys["email_key"] = normalize_email(values["email"])
    if "phone" in values:
        phone = values["phone"]
        if phones is not None and phone in phones:
            keys["phone_key"] = phones[phone]
        else:
            keys["phone_key"] = normalize_phone(phone, region)
    return keys


def phone_keys(
    record_type: str, rows: Iterable[dict[str, Any]], region: str
) -> dict[str, str | None]:
    """The phone key of every phone in a batch, parsed together (``derive_keys(phones=)``)."""
    if record_type != "contacts":
        return {}
    return normalize_phones((r["phone"] for r in rows if r.get("phone")), region)


@cache
def reference_fields(record_type: str) -> dict[str, type[RecordBase]]:
    """Foreign-key fields a client may set, with the record model each points at."""
    model = RECORD_MODELS[record_type]
    by_table = {m.__tablename__: m for m in RECORD_MODELS.values()}
    refs = {}
    for column in inspect(model).columns:
        for fk in column.foreign_keys:
            target = by_table.get(fk.column.table.name)
            if target is not None:
                refs[column.key] = target
    return refs


def check_references(
    session: Session, workspace_id: uuid.UUID, record_type: str, rows: list[dict[str, Any]]
) -> dict[int, str]:
    """Positions of rows that point at a record missing from this workspace, with why."""
    bad: dict[int, str] = {}
    for field, target in reference_fields(record_type).items():
        wanted = {r[field] for r in rows if r.get(field) is not None}
        if not wanted:
            continue
        found = set(
            session.scalars(
                select(target.id).where(
                    target.workspace_id == workspace_id,
                    target.id.in_(wanted),
                    target.deleted_at.is_(None),
                )
            )
        )
        for i, row in enumerate(rows):
            value = row.get(field)
            if value is not None and value not in found and i not in bad:
                bad[i] = f"{field}: no {singular(target.record_type)} with id {value}"
    return bad


@cache
def public_columns(model: type[RecordBase]) -> tuple[str, ...]:
    return tuple(
        c.key
        for c in inspect(model).column_attrs
        if c.key not in INTERNAL_FIELDS | {"workspace_id"}
    )


def to_dict(record: RecordBase) -> dict[str, Any]:
    return {name: getattr(record, name) for name in public_columns(type(record))}
