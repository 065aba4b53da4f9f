"""A client that hangs up mid-request is not a sandbox fault: the sandbox notes it in
one quiet line and logs no error or traceback, whichever route was reading the body."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from crmsync.sandbox import available, create
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot import HubSpotSandbox

SANDBOX_LOGGER = "crmsync.sandbox.app"
PATIENCE = 300.0  # seconds


class Recorder(logging.Handler):
    """Keeps every record of the sandbox app's logger and signals the first one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.arrived = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.arrived.set()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    logger = logging.getLogger(SANDBOX_LOGGER)
    handler = Recorder()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def hang_up(base_url: str, path: str, headers: dict[str, str]) -> None:
    """Send a POST whose body stops short of its Content-Length, then close the socket."""
    url = urlsplit(base_url)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n{head}"
        "Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
        '{"inputs": ['
    )
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(request.encode())


def assert_quiet_disconnect(recorder: Recorder) -> None:
    # the handler's line (quiet or not) is the sign the sandbox saw the hang-up; the
    # bound only guards against hanging (a starved machine may take long to get there)
    assert recorder.arrived.wait(PATIENCE), "the sandbox never noticed the client hanging up"
    assert [r.levelno for r in recorder.records] == [logging.INFO]
    (record,) = recorder.records
    assert record.exc_info is None
    assert "disconnected" in record.getMessage()


@pytest.mark.parametrize("provider", available())
def test_a_client_hanging_up_mid_body_is_logged_quietly(
    provider: str, serve: Any, recorder: Recorder
) -> None:
    sandbox = create(provider)
    server = serve(sandbox)
    hang_up(server.url(provider), "/_sandbox/faults", {})
    assert_quiet_disconnect(recorder)


def test_a_client_hanging_up_on_a_hot_route_is_logged_quietly(
    serve: Any, recorder: Recorder
) -> None:
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="off"))
    server = serve(sandbox)
    upsert = sandbox.upsert_request(0)
    headers = {"Authorization": upsert.headers["Authorization"]}
    hang_up(server.url("hubspot"), upsert.path, headers)
    assert_quiet_disconnect(recorder)
    # the request still has its line in the sandbox's request log (written once the
    # middleware returns, just after the handler's line)
    deadline = time.monotonic() + PATIENCE
    while not sandbox.request_log.entries() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [e["path"] for e in sandbox.request_log.entries()] == [upsert.path]
