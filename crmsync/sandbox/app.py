"""`build_app`: a provider's routes behind the common sandbox middleware.

Per request (outside ``/_sandbox``), in this order: latency, an injected fault if the
seeded draw or a forced fault says so, the provider's auth check, the rate limiter,
then the provider's handler. Every answer is logged (method, path, masked query,
status). A client that hangs up mid-request gets one info line, not an error. A
``drop`` fault aborts the TCP connection without any HTTP bytes, which
needs the server's transport: uvicorn's ``send`` is a bound method of its
request/response cycle, which holds it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmsync.sandbox.base import ProviderSandbox, SandboxError
from crmsync.sandbox.control import control_routes

log = logging.getLogger(__name__)


def build_app(sandbox: ProviderSandbox) -> ASGIApp:
    """The ASGI app serving `sandbox`: its API plus the `/_sandbox/` endpoints."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        response = sandbox.not_found_response(scope["method"], scope["path"])
        await response(scope, receive, send)

    # no slash redirects: real CRM APIs answer an unknown path in their own error shape
    router = Router(
        routes=[*control_routes(sandbox), *sandbox.routes()],
        default=not_found,
        redirect_slashes=False,
    )
    return SandboxMiddleware(router, sandbox)


async def read_body(receive: Receive) -> bytes:
    """The whole request body (what Starlette's `Request.body` reads, without it)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class ConnectionDropped(ConnectionResetError):
    """Raised when a ``drop`` fault cannot reach a real socket (ASGI transports)."""


def abort_connection(send: Send) -> None:
    """Close the client's socket at once, without an HTTP answer."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("sandbox dropped the connection")
    transport.abort()


class SandboxMiddleware:
    """Latency, faults, auth, rate limits and the request log around a provider."""

    def __init__(self, app: ASGIApp, sandbox: ProviderSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox"):
            await self._handle(scope, receive, send, {})
            return
        sandbox = self.sandbox
        started = time.perf_counter()
        status = [0]
        extra: dict[str, str] = {}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                if extra:
                    headers = list(message.get("headers", []))
                    headers.extend((k.lower().encode(), v.encode()) for k, v in extra.items())
                    message = {**message, "headers": headers}
            await send(message)

        exempt = sandbox.is_exempt(path)
        fault = sandbox.faults.draw(path, exempt)
        try:
            if sandbox.latency_ms:
                await asyncio.sleep(sandbox.latency_ms / 1000)
            if fault == "drop":
                abort_connection(send)
                return
            if fault == "slow":
                await asyncio.sleep(sandbox.options.slow_ms / 1000)
            elif fault is not None:
                await sandbox.fault_response(fault)(scope, receive, logged_send)
                return
            if not exempt and not await self._admit(scope, receive, logged_send, extra):
                return
            await self._handle(scope, receive, logged_send, extra)
        finally:
            sandbox.request_log.add(
                scope["method"], path, scope.get("query_string", b""), status[0], started, fault
            )

    async def _admit(
        self, scope: Scope, receive: Receive, send: Send, extra: dict[str, str]
    ) -> bool:
        """Auth check and rate limiting; answers and returns False when refused."""
        sandbox = self.sandbox
        refusal = sandbox.check_auth(Request(scope, receive))
        if refusal is not None:
            await refusal(scope, receive, send)
            return False
        method, path = scope["method"], scope["path"]
        decision = sandbox.limiter.check(
            sandbox.rate_bucket(method, path), sandbox.request_cost(method, path)
        )
        if not decision.allowed:
            await sandbox.throttled_response(decision)(scope, receive, send)
            return False
        if decision.usages:
            extra.update(sandbox.rate_headers(decision))
        return True

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, extra: dict[str, Any]
    ) -> None:
        """Run the route; provider errors raised as `SandboxError` become answers.

        A client that hangs up before its body arrived (`ClientDisconnect`, raised by
        Starlette's `Request.body` and by `read_body`) is the client's doing, not a
        sandbox fault: one info line, no traceback and no answer (nobody would read it).
        """
        started = [False]

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            hot = self.sandbox.hot_route(scope["method"], scope["path"])
            if hot is None:
                await self.app(scope, receive, tracking_send)
            else:
                await hot(await read_body(receive))(scope, receive, tracking_send)
        except SandboxError as exc:
            await exc.response(scope, receive, send)
        except ClientDisconnect:
            log.info(
                "sandbox %s: client disconnected during %s %s",
                self.sandbox.name,
                scope["method"],
                scope["path"],
            )
        except Exception:
            log.exception("sandbox %s failed on %s", self.sandbox.name, scope["path"])
            if not started[0]:
                await self.sandbox.error_response(500)(scope, receive, send)
