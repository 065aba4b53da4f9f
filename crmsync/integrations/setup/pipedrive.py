"""Pipedrive: custom fields (``POST /v1/personFields``, ``dealFields``,
``organizationFields``) and webhooks (``POST /v1/webhooks``) with HTTP Basic credentials
crmsync generates.

A custom field is named by a generated 40-character key; the connector also accepts
its name, so a mapping that targets ``Budget`` works once a field called ``Budget``
exists. Webhooks carry no signature: each delivery presents the Basic credentials
given at registration, which the intake checks.
"""

from __future__ import annotations

from typing import Any

from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.request_log import expect
from crmsync.connectors.pipedrive.webhooks import OBJECTS
from crmsync.integrations.setup.context import OWNER, SetupContext, field_items
from crmsync.integrations.setup.model import ItemKind, ItemState, SetupItem
from crmsync.integrations.setup.needs import FieldNeed
from crmsync.mapping.schema import FieldType

# remote object -> its *Fields endpoint
FIELDS_PATH = {
    "persons": "/v1/personFields",
    "deals": "/v1/dealFields",
    "organizations": "/v1/organizationFields",
}
_EVENT_OBJECT = {crm: singular for singular, crm in OBJECTS.items()}
_TYPES = {
    FieldType.NUMBER: "double",
    FieldType.DATE: "date",
    FieldType.PHONE: "phone",
    FieldType.ENUM: "enum",
    FieldType.OBJECT: "text",
}
USER, PASSWORD = "webhook_user", "webhook_password"


def _remote_type(need: FieldNeed) -> tuple[str, dict[str, Any]]:
    kind = _TYPES.get(need.type, "varchar")
    if kind == "enum" and not need.options:
        kind = "varchar"
    return kind, {}


class PipedriveSetup:
    def plan(self, ctx: SetupContext) -> list[SetupItem]:
        # any name can be a custom field's (its key is generated)
        fields = field_items(ctx, lambda name: bool(name.strip()), _remote_type, also_labels=True)
        for n, item in enumerate(fields):
            if item.state is ItemState.MISSING and item.remote_object not in FIELDS_PATH:
                fields[n] = item.as_state(ItemState.MANUAL, "this object has no custom fields")
        return [*fields, *self._webhooks(ctx)]

    def _hooks(self, ctx: SetupContext) -> list[dict[str, Any]]:
        """This integration's webhooks: their URL ends in its id, whatever the host."""
        listed = ctx.http.get("/v1/webhooks").json().get("data") or []
        mine = f"/{ctx.integration_id}"
        return [h for h in listed if str(h.get("subscription_url", "")).endswith(mine)]

    def _webhooks(self, ctx: SetupContext) -> list[SetupItem]:
        hooks = self._hooks(ctx)
        user = ctx.credentials.get(USER)
        items = []
        for object_type in ctx.objects:
            event_object = _EVENT_OBJECT.get(object_type)
            if event_object is None:
                continue
            mine = [h for h in hooks if h.get("event_object") == event_object]
            current = [
                h
                for h in mine
                if h.get("subscription_url") == ctx.webhook_url
                and user
                and h.get("http_auth_user") == user
            ]
            stale = [str(h["id"]) for h in mine if h not in current]
            state = ItemState.PRESENT if current else ItemState.MISSING
            items.append(
                SetupItem(
                    ItemKind.WEBHOOK,
                    f"{event_object}.*",
                    state,
                    object_type,
                    event_object,
                    "webhook (every action)",
                    detail="registered for another URL or credentials" if stale else "",
                    extra={"stale": stale},
                )
            )
        return items

    def create(self, ctx: SetupContext, item: SetupItem) -> None:
        if item.kind is ItemKind.FIELD:
            body: dict[str, Any] = {"name": item.name, "field_type": item.remote_type}
            if item.options:
                body["options"] = [{"label": o} for o in item.options]
            ctx.http.post(FIELDS_PATH[str(item.remote_object)], json=body)
            ctx.forget_fields(str(item.object_type))
            return
        for stale in item.extra.get("stale") or []:
            _delete(ctx, stale)
        answer = ctx.http.post(
            "/v1/webhooks",
            json={
                "subscription_url": ctx.webhook_url,
                "event_action": "*",
                "event_object": item.remote_object,
                "name": f"{OWNER} {item.object_type}",
                "http_auth_user": ctx.generated(USER, 12),
                "http_auth_password": ctx.generated(PASSWORD),
                "version": "2.0",
            },
        ).json()
        ctx.registrations[item.key] = str((answer.get("data") or {}).get("id"))

    def remove(self, ctx: SetupContext) -> list[str]:
        removed = []
        for hook in self._hooks(ctx):
            _delete(ctx, str(hook["id"]))
            removed.append(str(hook["id"]))
        ctx.registrations.clear()
        return removed


def _delete(ctx: SetupContext, hook_id: str) -> None:
    try:
        ctx.http.delete(f"/v1/webhooks/{hook_id}", extensions=expect(404))
    except ConnectorError as exc:
        if exc.status != 404:
            raise
