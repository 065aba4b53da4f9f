"""Shared fixtures for sandbox tests: a minimal provider for the common machinery,
a loopback webhook receiver, and a helper to serve sandboxes over real sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import ProviderSandbox, SandboxOptions, json_response
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.ratelimit import RateProfile, RateWindow, profiles
from crmsync.sandbox.server import SandboxServer
from tests.e2e.waiting import PATIENCE


class ToySandbox(ProviderSandbox):
    """A one-object CRM: enough to exercise faults, limits, auth and control paths."""

    name = "toy"
    rate_profiles = profiles(
        RateProfile("tiny", (RateWindow("TEN_SECONDLY", 3, 10.0),)),
        RateProfile("roomy", (RateWindow("TEN_SECONDLY", 1000, 10.0),)),
    )
    default_rate_profile = "roomy"
    exempt_prefixes = ("/oauth",)
    token = "toy-token"

    def __init__(self, options: SandboxOptions | None = None) -> None:
        super().__init__(options)
        self.items: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[BaseRoute]:
        async def list_items(request: Request) -> Response:
            return json_response({"items": list(self.items.values())})

        async def token(request: Request) -> Response:
            return json_response({"access_token": self.token})

        async def boom(request: Request) -> Response:
            raise RuntimeError("handler bug")

        return [
            Route("/items", list_items, methods=["GET"]),
            Route("/oauth/token", token, methods=["POST"]),
            Route("/boom", boom, methods=["GET"]),
        ]

    def reset(self) -> None:
        self.items.clear()

    def counts(self) -> dict[str, int]:
        return {"items": len(self.items)}

    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        if object_type != "items":
            raise KeyError(object_type)
        key = record_id or str(len(self.items) + 1)
        record = {**self.items.get(key, {"id": key}), **fields}
        self.items[key] = record
        return record

    def credential(self) -> str:
        return f"token={self.token}"

    def check_auth(self, request: Request) -> Response | None:
        if request.headers.get("authorization") == f"Bearer {self.token}":
            return None
        return json_response({"error": "unauthorized"}, status=401)


@dataclass
class Receiver:
    """A loopback HTTP server that records every POST it gets."""

    url: str
    failures: int = 0  # answer 500 to this many POSTs first
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait(self, count: int = 1, timeout: float = PATIENCE) -> list[tuple[dict[str, str], bytes]]:
        """Block until `count` deliveries arrived (fails the test on timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            self.arrived.wait(0.05)
            self.arrived.clear()
        assert len(self.received) >= count, f"expected {count}, got {len(self.received)}"
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on an ephemeral loopback port."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            rec = holder["r"]
            if rec.failures > 0:
                rec.failures -= 1
                self.send_response(500)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            rec.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            rec.arrived.set()
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["r"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """`serve(*sandboxes, tls=False)` starts a SandboxServer stopped after the test."""
    started: list[SandboxServer] = []

    def start(*sandboxes: ProviderSandbox, tls: bool = False) -> SandboxServer:
        server = SandboxServer(list(sandboxes), tls=tls).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class FakeClock:
    """A clock tests move by hand (epoch seconds), so timestamps tell writes apart."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """The clock `hub` runs on."""
    return FakeClock()


@pytest.fixture
def hub(serve: Any, clock: FakeClock) -> Iterator[tuple[HubSpotSandbox, httpx.Client]]:
    """A served HubSpot sandbox (limits off) and a client holding its private-app token."""
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="off"), clock=clock, batch_delay=0.01)
    server = serve(sandbox)
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    with httpx.Client(base_url=server.url("hubspot"), headers=headers) as client:
        yield sandbox, client
