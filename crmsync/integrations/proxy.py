"""Pass-through: one request to an integration's CRM API, for what crmsync does not model.

The request goes out through the integration's own connector client, so it carries the
stored credentials (renewed as needed), spends the integration's rate budget, waits out
the provider's rate limits, and comes back classified like any connector call. It can
only reach the CRM's API host: the caller gives a path relative to the API's base URL,
never a URL, and the client's host guard (``connectors.http.guard``) refuses anything else,
redirects included. The answer is the CRM's status, a chosen set of its headers and its
body (at most ``MAX_RESPONSE_BYTES``), plus the error class when it failed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import structlog

from crmsync.config import Settings
from crmsync.connectors.base import Connector
from crmsync.connectors.errors import AuthError, ConfigError, ConnectorError
from crmsync.connectors.http import ConnectorHttp
from crmsync.connectors.http.guard import UnsafeURL, check_url
from crmsync.integrations.connection import Wiring, connector_for
from crmsync.integrations.service import credentials_of, mark_needs_auth
from crmsync.integrations.vault import Vault
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import Integration

__all__ = [
    "MAX_RESPONSE_BYTES",
    "METHODS",
    "ProxyAnswer",
    "ProxyRequest",
    "check_path",
    "forward",
]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_PATH = 2000
# request headers a caller may set; credentials and hop-by-hop headers are crmsync's
_REQUEST_HEADERS = frozenset(
    {"accept", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"}
)
_REQUEST_PREFIXES = ("sforce-",)  # Salesforce call options (Sforce-Query-Options…)
# response headers passed back: content, caching, paging and the providers' rate signals
_RESPONSE_HEADERS = frozenset(
    {"content-type", "etag", "last-modified", "location", "retry-after", "sforce-limit-info"}
)
_RESPONSE_PREFIXES = ("x-hubspot-ratelimit-", "x-ratelimit-", "x-daily-")
_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")
_HEADER_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_log = structlog.get_logger("crmsync.integrations.proxy")


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    """What to send: a method, a path under the API's base URL, a query and a JSON body."""

    method: str
    path: str
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProxyAnswer:
    """The CRM's answer: status, selected headers, body, and the error class if any."""

    status: int
    headers: dict[str, str]
    body: Any
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
            "error": self.error,
        }


def _refuse(message: str, field_name: str) -> RecordInvalid:
    return RecordInvalid(message, {"field": field_name})


def check_path(path: str) -> str:
    """``path`` when it is a plain path under the API's base URL; ``RecordInvalid`` else.

    Refused: absolute or scheme-relative URLs, ``..`` segments (also percent-encoded),
    backslashes, whitespace and control characters, and a query or fragment in the path
    (the query goes in ``query``).
    """
    if not path.startswith("/") or path.startswith("//"):
        raise _refuse("path must start with a single '/' (a path on the CRM's API)", "path")
    if len(path) > MAX_PATH:
        raise _refuse(f"path is longer than {MAX_PATH} characters", "path")
    if _CONTROL.search(path) or "?" in path or "#" in path:
        raise _refuse(
            "path must not contain spaces, control characters, backslashes, '?' or '#'; "
            "put query parameters in 'query'",
            "path",
        )
    decoded = unquote(unquote(path))
    if ":" in decoded.split("/", 2)[1] or "//" in decoded:
        raise _refuse("path must not name a scheme or a host", "path")
    if any(segment in (".", "..") for segment in decoded.split("/")):
        raise _refuse("path must not contain '.' or '..' segments", "path")
    return path


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    chosen = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered not in _REQUEST_HEADERS and not lowered.startswith(_REQUEST_PREFIXES):
            allowed = ", ".join(sorted(_REQUEST_HEADERS))
            raise _refuse(
                f"header {name!r} may not be set (allowed: {allowed}, Sforce-*)", "headers"
            )
        if _HEADER_CONTROL.search(value):
            raise _refuse(f"header {name!r} has control characters", "headers")
        chosen[name] = value
    return chosen


def _api_client(connector: Connector) -> ConnectorHttp:
    """The connector's client on the CRM's API (``client.http``, or ``http`` itself)."""
    for holder in (getattr(connector, "client", None), connector):
        http = getattr(holder, "http", None)
        if isinstance(http, ConnectorHttp):
            return http
    raise ConfigError(f"{connector.provider} offers no pass-through client")


def _answer(response: httpx.Response, error: ConnectorError | None) -> ProxyAnswer:
    content = response.content
    if len(content) > MAX_RESPONSE_BYTES:
        raise ConfigError(
            f"the CRM answered {len(content)} bytes, more than the proxy's "
            f"{MAX_RESPONSE_BYTES}; ask for less (paging, fields)",
            code="response_too_large",
        )
    headers = {
        name: value
        for name, value in response.headers.items()
        if name in _RESPONSE_HEADERS or name.startswith(_RESPONSE_PREFIXES)
    }
    body: Any = None
    if content:
        try:
            body = response.json() if "json" in headers.get("content-type", "") else None
        except ValueError:
            body = None
        if body is None:
            body = content.decode(response.encoding or "utf-8", errors="replace")
    described = None
    if error is not None:
        described = {
            "class": error.kind,
            "action": error.action.value,
            "message": error.message,
            "code": error.code,
        }
    return ProxyAnswer(response.status_code, headers, body, described)


def forward(
    integration: Integration,
    vault: Vault,
    settings: Settings,
    request: ProxyRequest,
    wiring: Wiring | None = None,
) -> ProxyAnswer:
    """Send ``request`` to the integration's CRM and return what it answered.

    An answered error comes back as a ``ProxyAnswer`` with its class; refused credentials
    also turn the integration ``needs_auth`` (the caller commits). Errors with no answer
    behind them (unreachable CRM, a refused refresh, a spent rate budget) are raised.
    """
    method = request.method.upper()
    if method not in METHODS:
        raise _refuse(f"method must be one of {', '.join(METHODS)}", "method")
    path = check_path(request.path)
    headers = _request_headers(request.headers)
    connector = connector_for(integration, vault, settings, wiring)
    try:
        http = _api_client(connector)
        target = http.client.build_request(method, path, params=dict(request.query)).url
        try:
            check_url(str(target), integration.provider, sandbox_mode=settings.sandbox_mode)
        except UnsafeURL as exc:
            raise _refuse(f"path refused: {exc.message}", "path") from None
        kwargs: dict[str, Any] = {"params": dict(request.query), "headers": headers}
        if request.body is not None:
            kwargs["json"] = request.body
        try:
            response = http.request(method, path, **kwargs)
            error = None
        except ConnectorError as exc:
            if isinstance(exc, AuthError):
                oauth = bool(credentials_of(vault, integration).get("refresh_token"))
                mark_needs_auth(integration, exc.message, oauth=oauth)
            if exc.response is None:
                raise
            response, error = exc.response, exc
    finally:
        connector.close()
    _log.info(
        "proxy.request",
        integration_id=str(integration.id),
        method=method,
        path=path,
        status=response.status_code,
        error=error.kind if error else None,
    )
    return _answer(response, error)
