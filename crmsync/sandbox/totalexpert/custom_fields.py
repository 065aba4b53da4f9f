"""Custom field definitions (`GET /v1/schema/custom-fields`) and the check of `custom`
values: a definition for the entity must already exist (a POST never creates ad hoc
fields) and the value must fit its data type (TE-PM "Custom Fields")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import paging
from crmsync.sandbox.totalexpert.errors import TotalExpertError, json_response

DATA_TYPES = ("text", "datetime", "date", "boolean", "integer", "decimal")
# (system name, display name, data type, entity type) of a new sandbox account
DEFAULTS = (
    ("loan_goal", "Loan goal", "text", "contact"),
    ("pre_approval_amount", "Pre-approval amount", "decimal", "contact"),
    ("first_time_buyer", "First-time buyer", "boolean", "contact"),
    ("target_move_date", "Target move date", "date", "contact"),
    ("rate_lock_days", "Rate lock days", "integer", "loan"),
)
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4})$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4})[ T]\d{2}:\d{2}(:\d{2})?")


def definition(name: str, label: str, data_type: str, entity: str, stamp: str) -> dict[str, Any]:
    """One definition as the schema endpoint renders it."""
    return {
        "system_name": name,
        "display_name": label,
        "data_type": data_type,
        "related_entity": {"entity_type": entity, "entity_subtype": None},
        "account_class": None,
        "internal_created_at": stamp,
        "internal_updated_at": stamp,
    }


def check_custom(
    definitions: Mapping[str, dict[str, Any]], entity: str, values: Mapping[str, Any]
) -> None:
    """422 for a field with no definition on `entity`, 400 for a value of another type."""
    for name, value in values.items():
        found = definitions.get(name)
        if found is None or found["related_entity"]["entity_type"] != entity:
            raise TotalExpertError(422, "Unable to find target for relationship: 'custom'")
        if value is not None and not _fits(found["data_type"], value):
            raise TotalExpertError(
                400, f"Invalid value for custom field '{name}': expected {found['data_type']}"
            )


def _fits(data_type: str, value: Any) -> bool:
    text = str(value).strip()
    if data_type == "integer":
        return not isinstance(value, bool) and re.fullmatch(r"-?\d+", text) is not None
    if data_type == "decimal":
        return not isinstance(value, bool) and re.fullmatch(r"-?\d+(\.\d+)?", text) is not None
    if data_type == "boolean":
        return text.lower() in ("true", "false", "1", "0")
    if data_type == "date":
        return _DATE.match(text) is not None
    if data_type == "datetime":
        return _DATETIME.match(text) is not None
    return isinstance(value, str | int | float)


def routes(definitions: Mapping[str, dict[str, Any]], wrap: Any) -> list[Route]:
    allowed = ("system_name", "related_entity_type")

    async def listing(request: Request) -> Response:
        wanted = paging.filters(request.query_params, allowed)
        rows = [
            d
            for d in definitions.values()
            if wanted.get("system_name", d["system_name"]) == d["system_name"]
            and wanted.get("related_entity_type", d["related_entity"]["entity_type"])
            == d["related_entity"]["entity_type"]
        ]
        return json_response(paging.page(rows, request.query_params, dict))

    return [Route("/v1/schema/custom-fields", wrap(listing), methods=["GET"])]
