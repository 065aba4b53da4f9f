"""The `/_sandbox/` endpoints every sandbox serves (never faulted or rate limited).

- ``POST /_sandbox/reset``: empty the CRM state, counters, logs, forced faults.
- ``GET  /_sandbox/state?requests=N``: record counts, the last N requests (default
  100), webhook targets and deliveries, fault and rate settings.
- ``POST /_sandbox/webhooks`` ``{"url", "secret"?, "events"?, "basic_auth"?}``:
  register a webhook receiver.
- ``POST /_sandbox/change`` ``{"object_type", "record_id"?, "fields"}``: change (or
  create) a record as a CRM user would; fires webhooks; answers the record.
- ``POST /_sandbox/faults`` ``{"kind", "count", "path"?}`` forces the next `count`
  calls (under `path` if given) to fail with `kind`; ``{"rate", "seed", "kinds",
  "latency_ms", "slow_ms", "rate_profile"}`` change the settings (all optional).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import ProviderSandbox, SandboxError, json_response, read_json
from crmsync.sandbox.faults import parse_kind
from crmsync.sandbox.webhooks import WebhookTarget, loopback_url


def _bad_request(message: str) -> SandboxError:
    return SandboxError(json_response({"error": message}, status=400))


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise _bad_request("expected a JSON object")
    return body


def control_routes(sandbox: ProviderSandbox) -> list[BaseRoute]:
    """Routes of the control API bound to `sandbox`."""

    async def reset(request: Request) -> Response:
        sandbox.reset()
        sandbox.reset_common()
        return json_response({"reset": True, "counts": sandbox.counts()})

    async def state(request: Request) -> Response:
        text = request.query_params.get("requests", "100")
        if not text.isdigit():
            raise _bad_request("requests must be a whole number")
        limit = int(text)
        return json_response(
            {
                "provider": sandbox.name,
                "counts": sandbox.counts(),
                "requests": sandbox.request_log.entries(limit),
                "requests_total": sandbox.request_log.total,
                "webhooks": {
                    "targets": [t.describe() for t in sandbox.webhook_targets],
                    "deliveries": list(sandbox.webhooks.log),
                    "pending": sandbox.webhooks.pending,
                },
                "faults": {
                    "rate": sandbox.faults.rate,
                    "seed": sandbox.faults.seed,
                    "kinds": list(sandbox.faults.kinds),
                    "forced_remaining": sandbox.faults.forced_remaining(),
                    "injected": sandbox.faults.injected,
                    "latency_ms": sandbox.latency_ms,
                },
                "rate_profile": sandbox.profile.name,
                **sandbox.state_extra(),
            }
        )

    async def webhooks(request: Request) -> Response:
        body = _object(await read_json(request))
        url = body.get("url")
        if not isinstance(url, str) or not loopback_url(url):
            raise _bad_request("url must be an http(s) URL on 127.0.0.1, localhost or ::1")
        basic = body.get("basic_auth")
        target = WebhookTarget(
            url=url,
            secret=body.get("secret"),
            events=tuple(body.get("events") or ("*",)),
            basic_auth=(str(basic[0]), str(basic[1])) if basic else None,
        )
        return json_response(sandbox.register_webhook(target), status=201)

    async def change(request: Request) -> Response:
        body = _object(await read_json(request))
        object_type = body.get("object_type")
        fields = body.get("fields") or {}
        if not isinstance(object_type, str) or not isinstance(fields, Mapping):
            raise _bad_request("object_type (string) and fields (object) are required")
        record_id = body.get("record_id")
        try:
            record = sandbox.user_change(
                object_type, None if record_id is None else str(record_id), fields
            )
        except (KeyError, ValueError) as exc:
            raise SandboxError(json_response({"error": str(exc)}, status=404)) from exc
        return json_response(record)

    async def faults(request: Request) -> Response:
        body = _object(await read_json(request))
        try:
            _apply_fault_settings(sandbox, body)
        except (TypeError, ValueError) as exc:
            raise _bad_request(str(exc)) from exc
        return json_response(
            {
                "forced_remaining": sandbox.faults.forced_remaining(),
                "rate": sandbox.faults.rate,
                "seed": sandbox.faults.seed,
                "latency_ms": sandbox.latency_ms,
                "rate_profile": sandbox.profile.name,
            }
        )

    return [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/state", state, methods=["GET"]),
        Route("/_sandbox/webhooks", webhooks, methods=["POST"]),
        Route("/_sandbox/change", change, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["POST"]),
    ]


def _apply_fault_settings(sandbox: ProviderSandbox, body: Mapping[str, Any]) -> None:
    if "kind" in body:
        path = body.get("path")
        sandbox.faults.force(parse_kind(body["kind"]), int(body.get("count", 1)), path)
    kinds = body.get("kinds")
    sandbox.faults.configure(
        rate=None if body.get("rate") is None else float(body["rate"]),
        seed=None if body.get("seed") is None else int(body["seed"]),
        kinds=None if kinds is None else tuple(parse_kind(k) for k in kinds),
    )
    if body.get("latency_ms") is not None:
        sandbox.latency_ms = int(body["latency_ms"])
    if body.get("slow_ms") is not None:
        sandbox.options = dataclasses.replace(sandbox.options, slow_ms=int(body["slow_ms"]))
    if "rate_profile" in body:
        sandbox.set_rate_profile(body["rate_profile"])
