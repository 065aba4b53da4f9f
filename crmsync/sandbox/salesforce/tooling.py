"""Tooling API ``CustomField``: create a custom field on an object and read it back,
as setup tools do before they sync (``/tooling/sobjects/CustomField``).

``FullName`` is ``Object.Name__c``; ``Metadata`` gives ``label`` and ``type`` with the
attributes that type needs (``length`` for Text, ``precision``/``scale`` for Number,
``defaultValue`` for Checkbox, ``valueSet`` for Picklist). The field then shows in
describe and takes values at once. A name already used answers DUPLICATE_DEVELOPER_NAME;
missing attributes FIELD_INTEGRITY_EXCEPTION. Other Tooling resources answer NOT_FOUND.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.endpoint import LimitInfo, json_object, route
from crmsync.sandbox.salesforce.ids import IdFactory
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.schema import Field

PREFIX = "/services/data/v{version}/tooling/sobjects/CustomField"
_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c)$")
# Metadata type -> (sandbox field type, attributes it requires)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Text": ("string", ("length",)),
    "TextArea": ("textarea", ()),
    "LongTextArea": ("textarea", ("length", "visibleLines")),
    "Number": ("double", ("precision", "scale")),
    "Currency": ("currency", ("precision", "scale")),
    "Percent": ("percent", ("precision", "scale")),
    "Checkbox": ("boolean", ("defaultValue",)),
    "Date": ("date", ()),
    "DateTime": ("datetime", ()),
    "Email": ("email", ()),
    "Phone": ("phone", ()),
    "Url": ("url", ()),
    "Picklist": ("picklist", ("valueSet",)),
}


def _integrity(message: str) -> errors.ApiError:
    return errors.ApiError(400, "FIELD_INTEGRITY_EXCEPTION", message)


def to_field(name: str, metadata: dict[str, Any]) -> Field:
    """The sandbox field a CustomField definition makes (FIELD_INTEGRITY_EXCEPTION if
    its metadata is incomplete)."""
    kind = metadata.get("type")
    if kind not in TYPES:
        raise _integrity(f"Invalid field type: {kind}")
    field_type, needed = TYPES[str(kind)]
    missing = [a for a in needed if metadata.get(a) in (None, "")]
    if missing or not metadata.get("label"):
        raise _integrity(f"Required metadata missing: {', '.join(missing or ['label'])}")
    length = int(metadata.get("length") or (255 if field_type == "textarea" else 0))
    if kind == "Text" and not 1 <= length <= 255:
        raise _integrity("Text length must be between 1 and 255")
    options: tuple[str, ...] = ()
    if kind == "Picklist":
        values = ((metadata["valueSet"] or {}).get("valueSetDefinition") or {}).get("value")
        options = tuple(str(v.get("fullName")) for v in values or [] if isinstance(v, dict))
        if not options:
            raise _integrity("A picklist needs valueSet.valueSetDefinition.value")
    default = None
    if kind == "Checkbox":
        default = str(metadata["defaultValue"]).lower() == "true"
    return Field(
        name,
        field_type,
        str(metadata["label"]),
        length,
        external_id=bool(metadata.get("externalId")),
        unique=bool(metadata.get("unique")),
        picklist=options,
        default=default,
    )


def tooling_routes(org: Org, limit_info: LimitInfo) -> list[Route]:
    ids = IdFactory()
    created: dict[str, dict[str, Any]] = {}

    async def create(request: Request) -> Response:
        body = await json_object(request)
        match = _NAME.match(str(body.get("FullName") or ""))
        if match is None:
            raise errors.invalid_field("FullName must be Object.Field__c")
        sobject = org.store.sobject(match.group(1))
        metadata = body.get("Metadata")
        if not isinstance(metadata, dict):
            raise _integrity("Metadata is required")
        if sobject.field(match.group(2)) is not None:
            raise errors.ApiError(
                400,
                "DUPLICATE_DEVELOPER_NAME",
                f"There is already a field named {match.group(2)[:-3]} on {sobject.name}.",
            )
        org.store.add_field(sobject.name, to_field(match.group(2), metadata))
        field_id = ids.new("00N")
        created[field_id] = {
            "Id": field_id,
            "DeveloperName": match.group(2)[:-3],
            "TableEnumOrId": sobject.name,
            "FullName": f"{sobject.name}.{match.group(2)}",
            "Metadata": metadata,
        }
        result = {"id": field_id, "success": True, "errors": [], "warnings": [], "infos": []}
        return json_response(result, status=201)

    async def read(request: Request) -> Response:
        found = created.get(request.path_params["field_id"])
        if found is None:
            raise errors.not_found()
        version = request.path_params["version"]
        url = f"/services/data/v{version}/tooling/sobjects/CustomField/{found['Id']}"
        return json_response({"attributes": {"type": "CustomField", "url": url}, **found})

    return [
        *route(PREFIX, limit_info, POST=create),
        *route(PREFIX + "/{field_id}", limit_info, GET=read),
    ]
