"""HubSpot: custom properties in a ``crmsync`` property group, and webhook
subscriptions of the app when its developer API key is given.

Properties: ``GET|POST /crm/v3/properties/{object}`` and ``…/groups``. Webhooks belong to
an app (``/webhooks/v3/{appId}/settings`` for the target URL, ``…/subscriptions``), managed
with the developer API key (``hapikey``); a private app's webhooks have no API, so
without that key the plan says what to click.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.request_log import expect
from crmsync.integrations.setup.context import OWNER, SetupContext, by_name, field_items
from crmsync.integrations.setup.model import ItemKind, ItemState, SetupItem
from crmsync.integrations.setup.needs import FieldNeed
from crmsync.mapping.schema import FieldType

GROUP = OWNER
GROUP_LABEL = "crmsync"
# canonical object type -> HubSpot's singular name in webhook event types
SINGULAR = {"contacts": "contact", "leads": "contact", "companies": "company", "deals": "deal"}
_TYPES: dict[FieldType, tuple[str, str]] = {
    FieldType.NUMBER: ("number", "number"),
    FieldType.DATE: ("date", "date"),
    FieldType.DATETIME: ("datetime", "date"),
    FieldType.BOOLEAN: ("bool", "booleancheckbox"),
    FieldType.ENUM: ("enumeration", "select"),
    FieldType.PHONE: ("string", "phonenumber"),
    FieldType.OBJECT: ("string", "textarea"),
}


def _creatable(name: str) -> bool:
    # HubSpot's own properties start hs_ or are standard names the account always has
    return not name.startswith("hs_") and not name.endswith("_id")


def _remote_type(need: FieldNeed) -> tuple[str, dict[str, Any]]:
    kind, field_type = _TYPES.get(need.type, ("string", "text"))
    if kind == "enumeration" and not need.options:
        kind, field_type = "string", "text"
    return kind, {"fieldType": field_type}


def _in_custom_objects(ctx: SetupContext, items: list[SetupItem]) -> list[SetupItem]:
    """Items of a type held in a custom object (``config.custom_objects``) address that
    object by the objectTypeId the integration names, not the mapping's placeholder."""
    named = dict(ctx.config.get("custom_objects") or {})
    return [
        replace(i, remote_object=named[str(i.object_type)]) if i.object_type in named else i
        for i in items
    ]


class HubSpotSetup:
    def plan(self, ctx: SetupContext) -> list[SetupItem]:
        fields = _in_custom_objects(ctx, field_items(ctx, _creatable, _remote_type, group=GROUP))
        groups = []
        for remote_object in dict.fromkeys(i.remote_object for i in fields):
            wanted = [i for i in fields if i.remote_object == remote_object]
            if not any(i.state is ItemState.MISSING for i in wanted):
                continue
            present = by_name(self._groups(ctx, str(remote_object)), "name", GROUP)
            state = ItemState.PRESENT if present else ItemState.MISSING
            groups.append(
                SetupItem(
                    ItemKind.PROPERTY_GROUP,
                    GROUP,
                    state,
                    wanted[0].object_type,
                    remote_object,
                    GROUP_LABEL,
                )
            )
        return [*groups, *fields, *self._webhooks(ctx)]

    def _groups(self, ctx: SetupContext, remote_object: str) -> list[Any]:
        body = ctx.http.get(f"/crm/v3/properties/{remote_object}/groups").json()
        return list(body.get("results") or [])

    def create(self, ctx: SetupContext, item: SetupItem) -> None:
        if item.kind is ItemKind.PROPERTY_GROUP:
            ctx.http.post(
                f"/crm/v3/properties/{item.remote_object}/groups",
                json={"name": item.name, "label": item.label, "displayOrder": -1},
            )
        elif item.kind is ItemKind.FIELD:
            body: dict[str, Any] = {
                "name": item.name,
                "label": item.label,
                "type": item.remote_type,
                "fieldType": item.extra["fieldType"],
                "groupName": item.group,
                "description": "Created by crmsync for its field mapping",
            }
            if item.options:
                body["options"] = [
                    {"label": o, "value": o, "displayOrder": n} for n, o in enumerate(item.options)
                ]
            ctx.http.post(f"/crm/v3/properties/{item.remote_object}", json=body)
            ctx.forget_fields(str(item.object_type))
        elif item.name == "settings":
            app, key = _app(ctx)
            ctx.http.put(
                f"/webhooks/v3/{app}/settings",
                params={"hapikey": key},
                json={"targetUrl": ctx.webhook_url, "throttling": {"maxConcurrentRequests": 10}},
            )
        else:
            app, key = _app(ctx)
            answer = ctx.http.post(
                f"/webhooks/v3/{app}/subscriptions",
                params={"hapikey": key},
                json={
                    "eventType": item.extra["eventType"],
                    "propertyName": item.extra.get("propertyName"),
                    "active": True,
                },
            ).json()
            ctx.registrations[item.key] = str(answer.get("id"))

    def remove(self, ctx: SetupContext) -> list[str]:
        if _app(ctx) == ("", ""):
            return []
        app, key = _app(ctx)
        removed = []
        for item_key, sub_id in list(ctx.registrations.items()):
            if not item_key.startswith("webhook:"):
                continue
            try:
                ctx.http.delete(
                    f"/webhooks/v3/{app}/subscriptions/{sub_id}",
                    params={"hapikey": key},
                    extensions=expect(404),
                )
            except ConnectorError as exc:
                if exc.status != 404:
                    raise
            removed.append(item_key)
            del ctx.registrations[item_key]
        return removed

    def _webhooks(self, ctx: SetupContext) -> list[SetupItem]:
        events = _events(ctx)
        app, key = _app(ctx)
        if not app:
            return [_manual(ctx, events)]
        settings: dict[str, Any] = {}
        try:
            settings = ctx.http.get(
                f"/webhooks/v3/{app}/settings", params={"hapikey": key}, extensions=expect(404)
            ).json()
        except ConnectorError as exc:
            if exc.status != 404:
                raise
        state = (
            ItemState.PRESENT if settings.get("targetUrl") == ctx.webhook_url else ItemState.MISSING
        )
        items = [
            SetupItem(
                ItemKind.WEBHOOK,
                "settings",
                state,
                label="the app's webhook target URL",
                detail=ctx.webhook_url,
            )
        ]
        listed = ctx.http.get(f"/webhooks/v3/{app}/subscriptions", params={"hapikey": key}).json()
        have = {
            (s.get("eventType"), s.get("propertyName") or None)
            for s in listed.get("results") or []
            if s.get("active", True)
        }
        for object_type, event_type, prop in events:
            name = f"{event_type}:{prop}" if prop else event_type
            present = (event_type, prop) in have
            extra = {"eventType": event_type, "propertyName": prop}
            items.append(
                SetupItem(
                    ItemKind.WEBHOOK,
                    name,
                    ItemState.PRESENT if present else ItemState.MISSING,
                    object_type,
                    label="webhook subscription",
                    extra=extra,
                )
            )
        return items


def _app(ctx: SetupContext) -> tuple[str, str]:
    app = str(ctx.credentials.get("app_id") or "")
    key = str(ctx.credentials.get("developer_api_key") or "")
    return (app, key) if app and key else ("", "")


def _events(ctx: SetupContext) -> list[tuple[str, str, str | None]]:
    """(object type, event type, property) of every subscription the sync needs."""
    out: dict[tuple[str, str | None], str] = {}
    for object_type in ctx.objects:
        singular = SINGULAR.get(object_type)
        if singular is None:
            continue
        out.setdefault((f"{singular}.creation", None), object_type)
        out.setdefault((f"{singular}.deletion", None), object_type)
        for need in ctx.needs:
            if need.object_type == object_type:
                out.setdefault((f"{singular}.propertyChange", need.name), object_type)
    return [(o, e, p) for (e, p), o in out.items()]


def _manual(ctx: SetupContext, events: list[tuple[str, str, str | None]]) -> SetupItem:
    wanted = sorted({e for _, e, p in events if p is None})
    props = sorted({p for _, _, p in events if p})
    state = ItemState.PRESENT if ctx.received_webhook else ItemState.MANUAL
    return SetupItem(
        ItemKind.WEBHOOK,
        "private-app-webhooks",
        state,
        label="webhook subscriptions of the private app",
        detail=(
            "a verified delivery has arrived"
            if ctx.received_webhook
            else "HubSpot has no API for a private app's webhooks"
        ),
        steps=(
            "In HubSpot: Settings > Integrations > Private Apps > your app > Webhooks",
            f"Target URL: {ctx.webhook_url}",
            "Create subscriptions: " + ", ".join(wanted),
            "and 'Property changed' for: " + ", ".join(props),
            f"Commit the changes; POST /api/v1/integrations/{ctx.integration_id}/test then "
            "shows whether deliveries arrive (or give crmsync the app's developer API key "
            "and app_id to let it subscribe)",
        ),
    )
