"""The contract every provider sandbox implements, and the options they share.

A `ProviderSandbox` is one running emulator: its in-memory CRM state, its routes
(the provider's real API paths and wire format) and a few hooks that let the common
middleware (`crmsync.sandbox.app.build_app`) speak in the provider's voice — the 429
body and headers, the body of an injected 5xx, the auth check, the cost and bucket of
a request for rate limiting. Faults, latency, rate limits, the request log and the
`/_sandbox/` control endpoints are common and live outside the provider.

A provider package (``crmsync/sandbox/<name>/__init__.py``) exposes a subclass named
``Sandbox``; `crmsync.sandbox.PROVIDERS` maps the provider name to that package.
"""

from __future__ import annotations

import itertools
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crmsync.sandbox.faults import FaultInjector, FaultKind
from crmsync.sandbox.ratelimit import (
    DEFAULT_BUCKET,
    RateDecision,
    RateLimiter,
    RateProfile,
    RateWindow,
    WindowUsage,
    profiles,
    select_profile,
)
from crmsync.sandbox.requestlog import RequestLog
from crmsync.sandbox.webhooks import WebhookSender, WebhookTarget


@dataclass(frozen=True)
class SandboxOptions:
    """Behaviour switches shared by every sandbox.

    `rate_profile` None means the provider's default tier; ``"off"`` disables limits.
    `slow_ms` is how late a ``slow`` fault answers. `tls` serves https (server helper).
    """

    fault_rate: float = 0.0
    fault_seed: int | None = None
    latency_ms: int = 0
    rate_profile: str | None = None
    tls: bool = False
    slow_ms: int = 2000


@dataclass(frozen=True)
class SampleRequest:
    """One ready-made API request (used by bench/sandbox.py to load a sandbox)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    records: int = 1

    def to_http(self, host: str) -> bytes:
        """The raw HTTP/1.1 request bytes (keep-alive)."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


class SandboxError(Exception):
    """Raised by handlers to answer with a prepared provider-shaped response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response encoded with orjson (the sandboxes' hot path)."""
    return Response(
        orjson.dumps(data), status_code=status, headers=headers, media_type="application/json"
    )


async def read_json(request: Request) -> Any:
    """The request body as JSON, or None when it is empty or not JSON."""
    return json_or_none(await request.body())


def json_or_none(body: bytes) -> Any:
    """`body` parsed as JSON, or None when it is empty or not JSON."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


# A route the middleware serves without the router: raw body in, answer out.
HotHandler = Callable[[bytes], Response]


def new_secret(prefix: str = "", nbytes: int = 24) -> str:
    """A random token such as ``pat-na1-...``."""
    return prefix + secrets.token_hex(nbytes)


class ProviderSandbox(ABC):
    """One running emulator of one CRM provider.

    Subclasses set `name`, `rate_profiles` and `default_rate_profile`, and implement
    the abstract methods. `exempt_prefixes` lists paths (besides ``/_sandbox``) that
    random faults and rate limits skip, typically the OAuth endpoints.
    """

    name: ClassVar[str]
    rate_profiles: ClassVar[Mapping[str, RateProfile]] = profiles()
    default_rate_profile: ClassVar[str] = "off"
    exempt_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        # Where it is served; set by SandboxServer once its port is bound.
        self.base_url: str | None = None
        self.profile = select_profile(
            dict(self.rate_profiles), self.options.rate_profile, self.default_rate_profile
        )
        self.limiter = RateLimiter(self.profile)
        self.faults = FaultInjector(rate=self.options.fault_rate, seed=self.options.fault_seed)
        self.latency_ms = self.options.latency_ms
        self.webhooks = WebhookSender()
        self.request_log = RequestLog()
        self.webhook_targets: list[WebhookTarget] = []
        self._target_ids = itertools.count(1)

    # ---- what each provider must supply -------------------------------------------

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """Starlette routes of the provider's real API (paths and wire format)."""

    @abstractmethod
    def reset(self) -> None:
        """Empty the CRM state back to a fresh account (keep the default credential)."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Object type -> number of live (not archived/deleted) records."""

    @abstractmethod
    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create (`record_id` None) or update a record as a CRM user would, firing
        the provider's webhooks; returns the record in the provider's JSON shape."""

    @abstractmethod
    def credential(self) -> str:
        """The ready credential text for the default account, e.g. ``token=...``."""

    # ---- hooks with sensible defaults ----------------------------------------------

    def register_webhook(self, target: WebhookTarget) -> dict[str, Any]:
        """Add a receiver for this sandbox's webhooks (the `/_sandbox/webhooks` path)."""
        if not target.target_id:
            target = WebhookTarget(
                url=target.url,
                secret=target.secret,
                events=target.events,
                basic_auth=target.basic_auth,
                target_id=str(next(self._target_ids)),
            )
        self.webhook_targets.append(target)
        return target.describe()

    def check_auth(self, request: Request) -> Response | None:
        """None when the request carries valid credentials, else the provider's 401.

        Called for every path outside ``/_sandbox`` and `exempt_prefixes`.
        """
        return None

    def rate_bucket(self, method: str, path: str) -> str:
        """Which rate bucket a request counts against (e.g. ``search``)."""
        return DEFAULT_BUCKET

    def request_cost(self, method: str, path: str) -> int:
        """How many units of the rate windows a request uses."""
        return 1

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        """Headers describing rate usage, added to every limited-path response."""
        return {}

    def throttled_response(self, decision: RateDecision) -> Response:
        """The answer when a rate window is exceeded (HTTP 429 by default)."""
        return json_response(
            {"error": "rate limit exceeded"},
            status=429,
            headers={"Retry-After": str(decision.retry_after), **self.rate_headers(decision)},
        )

    def not_found_response(self, method: str, path: str) -> Response:
        """The answer for a path the provider does not have."""
        return json_response({"error": f"no route for {method} {path}"}, status=404)

    def error_response(self, status: int) -> Response:
        """The body of an injected 5xx in the provider's error shape."""
        return json_response({"error": "internal server error"}, status=status)

    def fault_response(self, kind: FaultKind) -> Response:
        """The answer for an injected ``429`` or 5xx fault."""
        if kind == "429":
            return self.throttled_response(_synthetic_throttle(self.profile))
        return self.error_response(int(kind))

    def hot_route(self, method: str, path: str) -> HotHandler | None:
        """A handler for requests that carry bulk traffic (e.g. batch upserts), served
        without the router and its Request object; None for every other request.
        Called after faults, auth and rate limits; it may raise `SandboxError`."""
        return None

    def upsert_request(self, seq: int, variant: int = 0) -> SampleRequest | None:
        """The provider's typical batch upsert (its largest batch) for benchmarks;
        `seq` picks which records, so repeating a `seq` updates the same ones, and
        `variant` changes their field values, so a new variant really updates them.
        None means the provider is not benchmarked."""
        return None

    def state_extra(self) -> dict[str, Any]:
        """Provider-specific additions to `/_sandbox/state` (e.g. OAuth clients)."""
        return {}

    def reset_common(self) -> None:
        """Reset the shared parts (limits, faults, webhook log) besides `reset`."""
        self.limiter.reset()
        self.faults.reset()
        self.request_log.clear()
        self.webhooks.clear()
        self.webhook_targets.clear()

    def set_rate_profile(self, name: str | None) -> None:
        """Switch tier at run time (`/_sandbox/faults` with ``rate_profile``)."""
        self.profile = select_profile(dict(self.rate_profiles), name, self.default_rate_profile)
        self.limiter = RateLimiter(self.profile)

    def is_exempt(self, path: str) -> bool:
        """Whether random faults and rate limits skip this path."""
        return path.startswith("/_sandbox") or path.startswith(self.exempt_prefixes)


def _synthetic_throttle(profile: RateProfile) -> RateDecision:
    """A decision that looks like the first window of `profile` ran out."""
    window = profile.windows[0] if profile.windows else RateWindow("SECONDLY", 1, 1.0)
    usage = WindowUsage(window=window, used=window.limit, remaining=0, reset_seconds=1.0)
    return RateDecision(allowed=False, usages=(usage,), violated=usage)
