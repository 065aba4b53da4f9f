"""The request log: a fault is a warning, an answer the caller expects is not."""

from __future__ import annotations

import httpx
import pytest
from structlog.testing import capture_logs

from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.client import build_http
from crmsync.connectors.http.request_log import expect


def _not_found(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, json={"message": "no such thing"})


def _level_of_response(extensions: dict[str, object] | None) -> str:
    http = build_http(
        base_url="https://api.hubapi.com",
        provider="hubspot",
        transport=httpx.MockTransport(_not_found),
    )
    with capture_logs() as logs, pytest.raises(ConnectorError) as raised:
        http.get("/webhooks/v3/1/settings", extensions=extensions or {})
    assert raised.value.status == 404  # the caller still sees the 404 and decides
    (entry,) = [e for e in logs if e["event"] == "http.response"]
    return str(entry["log_level"])


def test_an_unexpected_404_is_a_warning() -> None:
    assert _level_of_response(None) == "warning"


def test_a_404_the_caller_expects_is_logged_at_info() -> None:
    assert _level_of_response(expect(404)) == "info"


def test_expecting_a_404_does_not_hide_other_faults() -> None:
    http = build_http(
        base_url="https://api.hubapi.com",
        provider="hubspot",
        transport=httpx.MockTransport(lambda r: httpx.Response(403, json={"message": "no"})),
    )
    with capture_logs() as logs, pytest.raises(ConnectorError):
        http.get("/x", extensions=expect(404))
    assert [e["log_level"] for e in logs if e["event"] == "http.response"] == ["warning"]
