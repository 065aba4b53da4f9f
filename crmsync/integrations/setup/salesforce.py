"""Salesforce: custom ``*__c`` fields and the external-id field through the Tooling API
(``POST /tooling/sobjects/CustomField``), the org id for Outbound Messages, and the
Outbound Message that pushes changes in real time.

A Tooling ``CustomField`` takes ``FullName`` (``Object.Name__c``) and ``Metadata`` with
the type's attributes (``length`` for Text, ``precision``/``scale`` for Number,
``valueSet`` for Picklist, ``externalId``/``unique``). The intake checks every message's
``OrganizationId`` against the org id setup stored. Setup creates the Outbound Message
itself (Tooling ``WorkflowOutboundMessage``: endpoint URL, fields, integration user) and
points it at a new URL when crmsync's changes; what sends it (a record-triggered flow)
is the admin's click, which the plan spells out.
"""

from __future__ import annotations

from typing import Any

from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.request_log import expect
from crmsync.connectors.salesforce.client import API_VERSION
from crmsync.connectors.salesforce.connector import DEFAULT_EXTERNAL_ID
from crmsync.connectors.salesforce.mappers import SOBJECTS
from crmsync.integrations.setup.context import SetupContext, field_items
from crmsync.integrations.setup.model import ItemKind, ItemState, SetupItem
from crmsync.integrations.setup.needs import FieldNeed
from crmsync.mapping.schema import FieldType

TOOLING = f"/services/data/v{API_VERSION}/tooling/sobjects/CustomField"
USERINFO = "/services/oauth2/userinfo"
MESSAGES = f"/services/data/v{API_VERSION}/tooling/sobjects/WorkflowOutboundMessage"
QUERY = f"/services/data/v{API_VERSION}/tooling/query"
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
            if sobject is None or sobject == "Note":  # a Note takes no custom field
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
        if item.name == "organization-id":  # the org id the intake checks messages against
            found = ctx.http.get(USERINFO).json().get("organization_id")
            if not found:
                raise ConnectorError("userinfo named no organization_id")
            ctx.credentials[ORG_ID] = str(found)
            return
        if item.name.startswith("outbound-message:"):
            self._save_message(ctx, item)
            return
        metadata = {"label": item.label, "type": item.remote_type, **item.extra}
        metadata["description"] = "Created by crmsync for its field mapping"
        ctx.http.post(
            TOOLING, json={"FullName": f"{item.remote_object}.{item.name}", "Metadata": metadata}
        )
        ctx.forget_fields(str(item.object_type))

    def remove(self, ctx: SetupContext) -> list[str]:
        removed = []
        for key, message_id in list(ctx.registrations.items()):
            try:
                ctx.http.delete(f"{MESSAGES}/{message_id}", extensions=expect(404))
            except ConnectorError as exc:
                if exc.status != 404:
                    raise
            removed.append(message_id)
            del ctx.registrations[key]
        return removed

    def _message(self, ctx: SetupContext, sobject: str, name: str) -> dict[str, Any] | None:
        # ``name`` is crmsync's own constant (crmsync_<object type>), never user input
        soql = f"SELECT Id, Name, Metadata FROM WorkflowOutboundMessage WHERE Name = '{name}'"  # noqa: S608
        rows = ctx.http.get(QUERY, params={"q": soql}).json().get("records") or []
        return next(
            (r for r in rows if str(r.get("FullName") or f"{sobject}.").startswith(f"{sobject}.")),
            None,
        )

    def _save_message(self, ctx: SetupContext, item: SetupItem) -> None:
        """Create the Outbound Message, or point the existing one at crmsync's URL."""
        object_type, sobject = str(item.object_type), str(item.remote_object)
        existing = ctx.fields_of(object_type)
        fields = [f for f in item.extra["fields"] if f.lower() in existing]
        user = ctx.http.get(USERINFO).json().get("preferred_username")
        metadata = {
            "endpointUrl": ctx.webhook_url,
            "fields": fields,
            "integrationUser": user,
            "name": f"crmsync {object_type}",
            "includeSessionId": False,
            "protected": False,
            "description": "Sends changes to crmsync (created by crmsync's setup)",
        }
        if item.extra.get("id"):
            ctx.http.patch(f"{MESSAGES}/{item.extra['id']}", json={"Metadata": metadata})
            ctx.registrations[item.key] = str(item.extra["id"])
            return
        full_name = f"{sobject}.{item.extra['message']}"
        answer = ctx.http.post(MESSAGES, json={"FullName": full_name, "Metadata": metadata})
        ctx.registrations[item.key] = str(answer.json().get("id"))

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
            name = f"crmsync_{object_type}"
            fields = ["Id", "SystemModstamp", "CreatedDate", "LastModifiedDate"]
            fields += [n.name for n in ctx.needs if n.object_type == object_type]
            found = self._message(ctx, sobject, name)
            meta = (found or {}).get("Metadata") or {}
            current = found is not None and meta.get("endpointUrl") == ctx.webhook_url
            items.append(
                SetupItem(
                    ItemKind.WEBHOOK,
                    f"outbound-message:{sobject}",
                    ItemState.PRESENT if current else ItemState.MISSING,
                    object_type,
                    sobject,
                    f"Outbound Message {name} to crmsync",
                    detail="points at another URL" if found is not None and not current else "",
                    extra={
                        "message": name,
                        "fields": list(dict.fromkeys(fields)),
                        "id": (found or {}).get("Id"),
                    },
                )
            )
            on = ctx.received_webhook
            items.append(
                SetupItem(
                    ItemKind.WEBHOOK,
                    f"flow:{sobject}",
                    ItemState.PRESENT if on else ItemState.MANUAL,
                    object_type,
                    sobject,
                    f"what sends {name}",
                    detail=(
                        "a verified Outbound Message has arrived"
                        if on
                        else "Salesforce has no REST call that turns an Outbound Message on"
                    ),
                    steps=(
                        f"In Salesforce Setup: Flows > New Flow > Record-Triggered Flow on "
                        f"{sobject}, 'A record is created or updated', 'Actions and Related "
                        "Records'",
                        f"Add the action 'Outbound Message' {name} (setup made it: it sends "
                        f"to {ctx.webhook_url}); save and activate",
                        f"POST /api/v1/integrations/{ctx.integration_id}/test then shows "
                        "whether messages arrive; polling keeps syncing meanwhile",
                    ),
                )
            )
        return items
