"""The generic REST CRM: webhooks through its ``POST /api/v1/webhooks`` (``url``,
``events``, ``secret``), with a shared secret crmsync generates; the CRM sends it back in
``X-CRM-Secret`` on every delivery. Its fields follow crmsync's own names: there are no
custom fields to create.
"""

from __future__ import annotations

from typing import Any

from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.request_log import expect
from crmsync.integrations.setup.context import SetupContext
from crmsync.integrations.setup.model import ItemKind, ItemState, SetupItem

PATH = "/api/v1/webhooks"
SECRET = "webhook_secret"  # noqa: S105 - the credential's name


class GenericSetup:
    def plan(self, ctx: SetupContext) -> list[SetupItem]:
        hooks = self._hooks(ctx)
        current = [h for h in hooks if h.get("url") == ctx.webhook_url]
        known = set(ctx.registrations.values())
        # ours, registered for a URL crmsync no longer has
        stale = [str(h["id"]) for h in hooks if str(h.get("id")) in known and h not in current]
        ready = bool(current) and bool(ctx.credentials.get(SECRET))
        return [
            SetupItem(
                ItemKind.WEBHOOK,
                "*",
                ItemState.PRESENT if ready else ItemState.MISSING,
                label="webhook (every event)",
                detail="registered for another URL" if stale else "",
                extra={"stale": stale, "current": [str(h["id"]) for h in current]},
            )
        ]

    def _hooks(self, ctx: SetupContext) -> list[dict[str, Any]]:
        return list(ctx.http.get(PATH).json().get("data") or [])

    def create(self, ctx: SetupContext, item: SetupItem) -> None:
        # the secret is only known at registration: an old hook of this URL goes too
        for hook_id in [*item.extra.get("stale", []), *item.extra.get("current", [])]:
            _delete(ctx, hook_id)
        secret = ctx.generated(SECRET, 32)
        answer = ctx.http.post(
            PATH, json={"url": ctx.webhook_url, "events": ["*"], "secret": secret}
        ).json()
        ctx.registrations[item.key] = str(answer.get("id"))

    def remove(self, ctx: SetupContext) -> list[str]:
        removed = []
        for key, hook_id in list(ctx.registrations.items()):
            _delete(ctx, hook_id)
            removed.append(hook_id)
            del ctx.registrations[key]
        return removed


def _delete(ctx: SetupContext, hook_id: str) -> None:
    try:
        ctx.http.delete(f"{PATH}/{hook_id}", extensions=expect(404))
    except ConnectorError as exc:
        if exc.status != 404:
            raise
