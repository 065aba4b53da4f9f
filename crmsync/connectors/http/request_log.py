"""Structured request logs (structlog) for connector traffic, with secrets redacted."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import structlog

from crmsync.connectors.http.quota import BOOK, read_quota
from crmsync.connectors.http.redaction import redact_body, redact_url
from crmsync.metrics import CRM_API_CALLS, CRM_RATE_LIMITED

__all__ = ["EXPECTED_STATUSES", "RequestLogger", "expect"]

_STARTED = "crmsync.started"

#: The request extension naming error statuses the caller expects and handles (a lookup
#: that may find nothing); such an answer is logged at info, not as a warning.
EXPECTED_STATUSES = "crmsync.expected_statuses"


def expect(*statuses: int) -> dict[str, Any]:
    """The ``extensions`` of a request whose ``statuses`` are an answer, not a fault."""
    return {EXPECTED_STATUSES: frozenset(statuses)}


class RequestLogger:
    """httpx event hooks that log each request and response of one integration.

    Bodies are left out unless ``log_bodies`` is set (debugging a provider); even then
    secret fields are redacted. Headers are never logged.
    """

    def __init__(
        self,
        *,
        provider: str,
        integration_id: object = None,
        log_bodies: bool = False,
        logger: Any = None,
    ):
        self._log = (logger or structlog.get_logger("crmsync.connectors.http")).bind(
            provider=provider, integration_id=str(integration_id) if integration_id else None
        )
        self._labels = (provider, str(integration_id) if integration_id else "")
        self._integration_id = integration_id if isinstance(integration_id, uuid.UUID) else None
        self._log_bodies = log_bodies

    def hooks(self) -> dict[str, list[Any]]:
        """The ``event_hooks`` argument of ``httpx.Client``."""
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: httpx.Request) -> None:
        request.extensions[_STARTED] = time.monotonic()
        # one line per call (at the response) unless bodies are wanted
        if self._log_bodies:
            content_type = request.headers.get("content-type", "")
            self._log.debug(
                "http.request",
                method=request.method,
                url=redact_url(request.url),
                body=redact_body(request.content, content_type),
            )

    def on_response(self, response: httpx.Response) -> None:
        request = response.request
        started = request.extensions.get(_STARTED)
        fields: dict[str, Any] = {
            "method": request.method,
            "url": redact_url(request.url),
            "status": response.status_code,
        }
        if isinstance(started, float):
            fields["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        if self._log_bodies:
            response.read()
            fields["body"] = redact_body(response.content, response.headers.get("content-type", ""))
        CRM_API_CALLS.labels(*self._labels, str(response.status_code)).inc()
        if self._integration_id is not None:
            quotas = read_quota(response.headers)
            if quotas:
                BOOK.note(self._integration_id, quotas)
        if response.status_code == 429:
            CRM_RATE_LIMITED.labels(*self._labels).inc()
        expected = request.extensions.get(EXPECTED_STATUSES, frozenset())
        faulty = response.status_code >= 400 and response.status_code not in expected
        level = "warning" if faulty else "info"
        getattr(self._log, level)("http.response", **fields)
