"""The HTTP client every connector uses: budget, send, classify, wait or retry.

Each call first spends the integration's rate budget, then goes out through a sync
``httpx.Client`` (auth flow, timeouts, redacted logs, host guard) and comes back
classified. A ``RateLimited`` answer waits the provider's ``Retry-After`` without counting
as an attempt (and holds every other caller of the integration); a ``Transient`` one is
retried by the ``RetryPolicy`` when the call is safe to repeat. Anything else is raised
for the connector or the worker to act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from crmsync.connectors.errors import (
    ClassifierHook,
    ConnectorError,
    RateLimited,
    Transient,
    classify,
)
from crmsync.connectors.http.guard import GuardedTransport
from crmsync.connectors.http.ratelimit import RateLimiter
from crmsync.connectors.http.request_log import RequestLogger
from crmsync.connectors.http.retry import RetryPolicy, retry_after_seconds

__all__ = ["ConnectorHttp", "HttpSettings", "build_http"]

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_log = structlog.get_logger("crmsync.connectors.http")


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Per-integration knobs of the HTTP layer (all have working defaults)."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    # in-call retries stay short; longer backoff is the worker's job scheduling
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3, base=0.5, cap=4))
    # a provider wait longer than this is raised as RateLimited for the worker to schedule
    max_rate_wait: float = 60.0
    max_rate_limited: int = 5
    log_bodies: bool = False


class ConnectorHttp:
    """A classified, rate-limited, retrying wrapper around one ``httpx.Client``."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        limiter: RateLimiter | None = None,
        hooks: Iterable[ClassifierHook] = (),
        settings: HttpSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.limiter = limiter
        self.hooks = tuple(hooks)
        self.settings = settings or HttpSettings()
        self._sleep = sleep

    def request(
        self,
        method: str,
        url: str,
        *,
        cost: float = 1.0,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send and classify; return the response of a success, raise the error otherwise.

        ``cost`` is what the call spends from the rate budget (Pipedrive token prices);
        ``idempotent`` allows Transient retries of a POST/PATCH that is safe to repeat
        (an upsert by key), and defaults to the method's own semantics.
        """
        method = method.upper()
        retryable = method in _IDEMPOTENT if idempotent is None else idempotent
        policy = self.settings.retry
        attempt = 0
        rate_limited = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire(cost)
            attempt += 1
            outcome = self._send(method, url, kwargs)
            if isinstance(outcome, httpx.Response):
                return outcome
            error = outcome
            if isinstance(error, RateLimited):
                rate_limited += 1
                attempt -= 1  # waiting for a budget is not an attempt
                self._wait(error, rate_limited, method, url)
                continue
            if isinstance(error, Transient) and retryable and policy.allows(attempt + 1):
                delay = policy.delay(attempt - 1)
                _log.info(
                    "http.retry",
                    method=method,
                    path=_path(url),
                    attempt=attempt,
                    delay=round(delay, 3),
                    error=error.message,
                )
                self._sleep(delay)
                continue
            raise error

    def _send(
        self, method: str, url: str, kwargs: dict[str, Any]
    ) -> httpx.Response | ConnectorError:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            # the type is enough; messages of transport errors can carry the URL
            return Transient(f"request timed out ({type(exc).__name__})", code="TIMEOUT")
        except httpx.TransportError as exc:
            return Transient(f"connection failed ({type(exc).__name__})", code="CONNECTION")
        except ConnectorError as exc:
            # raised inside the auth flow (a token refresh that failed) or by the host guard
            return exc
        error = classify(response, self.hooks, retry_after=retry_after_seconds(response))
        if error is None:
            return response
        error.response = response
        return error

    def _wait(self, error: RateLimited, count: int, method: str, url: str) -> None:
        wait = error.retry_after
        if self.limiter is not None:
            self.limiter.penalize(wait)
        if wait > self.settings.max_rate_wait or count > self.settings.max_rate_limited:
            raise error
        _log.warning(
            "http.rate_limited",
            method=method,
            path=_path(url),
            wait=wait,
            status=error.status,
            code=error.code,
        )
        self._sleep(wait)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """``request("GET", …)``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """``request("POST", …)``."""
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        """``request("PATCH", …)``."""
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        """``request("PUT", …)``."""
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        """``request("DELETE", …)``."""
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        """Close the underlying client and its connections."""
        self.client.close()

    def __enter__(self) -> ConnectorHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _path(url: str) -> str:
    # logs name the path only: query strings may carry api_token
    return httpx.URL(url).path


def build_http(
    *,
    base_url: str,
    provider: str,
    auth: httpx.Auth | None = None,
    integration_id: object = None,
    limiter: RateLimiter | None = None,
    hooks: Iterable[ClassifierHook] = (),
    settings: HttpSettings | None = None,
    transport: httpx.BaseTransport | None = None,
    extra_hosts: Iterable[str] = (),
    host_check: Callable[[str], bool] | None = None,
    headers: dict[str, str] | None = None,
    verify: bool | str = True,
    sleep: Callable[[float], None] = time.sleep,
) -> ConnectorHttp:
    """The client of one integration, pinned to its base URL's host (plus ``extra_hosts``
    and any host ``host_check`` admits).

    ``base_url`` must already have passed ``connectors.http.guard.check_url``; ``transport`` is
    injected by tests (``httpx.MockTransport``) and by the sandboxes (ASGI).
    """
    settings = settings or HttpSettings()
    inner = transport if transport is not None else httpx.HTTPTransport(verify=verify)
    host = httpx.URL(base_url).host
    logger = RequestLogger(
        provider=provider, integration_id=integration_id, log_bodies=settings.log_bodies
    )
    client = httpx.Client(
        base_url=base_url,
        auth=auth,
        headers=headers,
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        transport=GuardedTransport(inner, [host, *extra_hosts], also=host_check),
        event_hooks=logger.hooks(),
        follow_redirects=False,
    )
    return ConnectorHttp(client, limiter=limiter, hooks=hooks, settings=settings, sleep=sleep)
