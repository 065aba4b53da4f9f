"""Salesforce: custom ``*__c`` fields and the external-id field through the Tooling API
(``POST /tooling/sobjects/CustomField``), the org id for Outbound Messages, and the
Outbound Message an admin configures to push changes in real time.

A Tooling ``CustomField`` takes ``FullName`` (``Object.Name__c``) and ``Metadata`` with
the type's attributes (``length`` for Text, ``precision``/``scale`` for Number,
``valueSet`` for Picklist, ``externalId``/``unique``). Outbound Messages are sent by a
workflow rule or flow the admin saves in Setup: the plan lists the clicks, and the
intake checks every message's ``OrganizationId`` against the org id setup stored.
"""

from __future__ import annotations

from typing import Any

from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.salesforce.client import API_VERSION
from crmsync.connectors.salesforce.connector import DEFAULT_EXTERNAL_ID
from crmsync.connectors.salesforce.mappers import SOBJECTS
from crmsync.integrations.setup.context import SetupContext, field_items
from crmsync.integrations.setup.model import ItemKind, ItemState, SetupItem
from crmsync.integrations.setup.needs import FieldNeed
from crmsync.mapping.schema import FieldType

TOOLING = f"/services/data/v{API_VERSION}/tooling/sobjects/CustomField"
USERINFO = "/services/oauth2/userinfo"
ORG_ID = "org_id"
_TEXT = {"type": "Text", "length": 255}
_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.STRING: _TEXT,
    FieldType.EMAIL: {"type": "Email"},
    FieldType.PHONE: {"type": "Phone"},
    FieldType.NUMBER: {"type": "Number", "precision": 18, "scale": 2},
    FieldType.BOOLEAN: {"type": "Checkbox", "defaultValue": "false"},
    FieldType.DATE: {"type": "Date"},
    FieldType.DATETIME: {"type": "DateTime"},
    FieldType.LIST: _TEXT,  # sent joined (``join`` transform) as one text value
    FieldType.OBJECT: {"type": "LongTextArea", "length": 32768, "visibleLines": 3},
}


def _creatable(name: str) -> bool:
    return name.endswith("__c")


def _remote_type(need: FieldNeed) -> tuple[str, dict[str, Any]]:
    if need.type is FieldType.ENUM and need.options:
        values = [{"fullName": o, "default": False, "label": o} for o in need.options]
        return "Picklist", {"valueSet": {"valueSetDefinition": {"value": values}}}
    metadata = dict(_TYPES.get(need.type, _TEXT))
    return str(metadata.pop("type")), metadata


class SalesforceSetup:
    def plan(self, ctx: SetupContext) -> list[SetupItem]:
        items = field_items(ctx, _creatable, _remote_type)
        external_ids = dict(ctx.config.get("external_ids") or {})
        for object_type in ctx.objects:
            sobject = SOBJECTS.get(object_type)
            if sobject is None:
                continue
            name = external_ids.get(object_type, DEFAULT_EXTERNAL_ID)
            found = ctx.fields_of(object_type).get(name.lower())
            state = ItemState.PRESENT if found is not None else ItemState.MISSING
            if found is not None and not found.unique:
                state = ItemState.MANUAL
            items.append(
                SetupItem(
                    ItemKind.EXTERNAL_ID,
                    name,
                    state,
                    object_type,
                    sobject,
                    "crmsync Id",
                    "Text",
                    extra={"length": 255, "externalId": True, "unique": True},
                    detail="" if state is not ItemState.MANUAL else "exists but is not unique",
                )
            )
        return [*items, *self._outbound(ctx)]

    def create(self, ctx: SetupContext, item: SetupItem) -> None:
        if item.kind is ItemKind.WEBHOOK:  # the org id the intake checks messages against
            found = ctx.http.get(USERINFO).json().get("organization_id")
            if not found:
                raise ConnectorError("userinfo named no organization_id")
            ctx.credentials[ORG_ID] = str(found)
            return
        metadata = {"label": item.label, "type": item.remote_type, **item.extra}
        metadata["description"] = "Created by crmsync for its field mapping"
        ctx.http.post(
            TOOLING, json={"FullName": f"{item.remote_object}.{item.name}", "Metadata": metadata}
        )
        ctx.forget_fields(str(item.object_type))

    def remove(self, ctx: SetupContext) -> list[str]:
        return []  # the admin's Outbound Message is theirs to delete

    def _outbound(self, ctx: SetupContext) -> list[SetupItem]:
        known = bool(ctx.credentials.get(ORG_ID))
        items = [
            SetupItem(
                ItemKind.WEBHOOK,
                "organization-id",
                ItemState.PRESENT if known else ItemState.MISSING,
                label="the org id Outbound Messages are checked against",
                detail="read from the OpenID Connect userinfo (organization_id)",
            )
        ]
        for object_type in ctx.objects:
            sobject = SOBJECTS.get(object_type)
            if sobject is None:
                continue
            fields = ["Id", "SystemModstamp", "CreatedDate", "LastModifiedDate"]
            fields += [n.name for n in ctx.needs if n.object_type == object_type]
            state = ItemState.PRESENT if ctx.received_webhook else ItemState.MANUAL
            items.append(
                SetupItem(
                    ItemKind.WEBHOOK,
                    f"outbound-message:{sobject}",
                    state,
                    object_type,
                    sobject,
                    "Outbound Message to crmsync",
                    detail=(
                        "a verified Outbound Message has arrived"
                        if ctx.received_webhook
                        else "Salesforce has no REST call that turns an Outbound Message on"
                    ),
                    steps=(
                        f"In Salesforce Setup: Outbound Messages > New > object {sobject}",
                        f"Name: crmsync_{object_type}; Endpoint URL: {ctx.webhook_url}",
                        "Fields to send: " + ", ".join(dict.fromkeys(fields)),
                        f"Then a record-triggered flow (or workflow rule) on {sobject}, "
                        "'created or edited', whose action is that Outbound Message",
                        "POST /api/v1/integrations/{id}/test then shows whether messages "
                        "arrive; polling keeps syncing meanwhile",
                    ),
                )
            )
        return items
