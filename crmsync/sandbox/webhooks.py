"""Outbound webhook delivery from a sandbox to registered (loopback) targets.

Providers build each message (URL, raw body, signed headers); the `WebhookSender`
posts it with an `httpx.AsyncClient` on the sandbox's event loop, retrying on
connection errors, timeouts and 4xx/5xx answers, and keeps a delivery log that
`/_sandbox/state` shows. `sign` is called again before each attempt so time-based
signatures (HubSpot v3) stay fresh.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def loopback_url(url: object) -> bool:
    """Whether `url` is an http(s) URL on this machine: sandboxes only call loopback
    receivers, so a misconfigured target can never reach the internet."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass(frozen=True)
class WebhookTarget:
    """A registered receiver. `events` filters by the provider's event names."""

    url: str
    secret: str | None = None
    events: tuple[str, ...] = ("*",)
    basic_auth: tuple[str, str] | None = None
    target_id: str = ""

    def wants(self, event: str) -> bool:
        """Whether this target subscribed to `event` (``*`` is every event)."""
        return "*" in self.events or event in self.events

    def describe(self) -> dict[str, Any]:
        """JSON-safe description without secrets."""
        return {"id": self.target_id, "url": self.url, "events": list(self.events)}


Signer = Callable[[bytes, int], dict[str, str]]


@dataclass(frozen=True)
class WebhookMessage:
    """One POST to one target. `sign(body, attempt)` returns per-attempt headers."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    sign: Signer | None = None
    event: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a delivery is retried (small for loopback use)."""

    attempts: int = 4
    base_seconds: float = 0.2
    cap_seconds: float = 2.0
    timeout_seconds: float = 5.0

    def delay(self, attempt: int) -> float:
        """Back-off before attempt number `attempt` (1 = first retry)."""
        return float(min(self.cap_seconds, self.base_seconds * (2 ** (attempt - 1))))


@dataclass
class WebhookSender:
    """Fire-and-forget delivery with retries; call `enqueue` from the event loop."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def enqueue(self, message: WebhookMessage) -> None:
        """Schedule delivery on the running loop, or from another thread on `loop`
        (the server sets it), e.g. when a test changes a record directly."""
        if not loopback_url(message.url):  # never deliver off the machine; log the refusal
            self.log.append(_entry(message, None, "not a loopback URL", 0))
            return
        self.run_soon(lambda: self._start(message))

    def run_soon(self, callback: Callable[[], object]) -> None:
        """Run `callback` on the delivery loop (now, if already on it)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if self.loop is None:
                raise RuntimeError("no event loop to deliver webhooks on") from None
            self.loop.call_soon_threadsafe(callback)
            return
        callback()

    def _start(self, message: WebhookMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        """Deliveries still in flight (including back-off waits)."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait for every delivery in flight to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def clear(self) -> None:
        """Forget the delivery log (on sandbox reset)."""
        self.log.clear()

    async def _deliver(self, message: WebhookMessage) -> None:
        client = self._http()
        status: int | None = None
        error = ""
        attempt = 0
        for attempt in range(self.retry.attempts):
            if attempt:
                await asyncio.sleep(self.retry.delay(attempt))
            headers = {"Content-Type": "application/json", **message.headers}
            if message.sign is not None:
                headers.update(message.sign(message.body, attempt))
            try:
                response = await client.post(message.url, content=message.body, headers=headers)
            except httpx.HTTPError as exc:
                status, error = None, type(exc).__name__
                continue
            status, error = response.status_code, ""
            if response.status_code < 400:
                break
        self.log.append(_entry(message, status, error, attempt + 1))

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.retry.timeout_seconds, verify=False)  # noqa: S501 - loopback receivers may use self-signed certificates
        return self._client


def _entry(
    message: WebhookMessage, status: int | None, error: str, attempts: int
) -> dict[str, Any]:
    return {
        "url": message.url,
        "event": message.event,
        "status": status,
        "error": error,
        "attempts": attempts,
        "at": time.time(),
    }
