"""The HTTP side of a declarative connector: auth, rate budget and error text from the
definition, on the shared HTTP layer."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from crmsync.connectors.errors import ConfigError, ConnectorError, RateLimited, classify
from crmsync.connectors.http import ApiKeyAuth, BearerAuth, RateLimiter, build_http
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.http.ratelimit import Budget, RateProfile
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.rest.definition import Definition
from crmsync.connectors.rest.wire import dig

__all__ = ["build_auth", "connect", "error_hook", "rate_profile"]


def _credential(context: ConnectorContext, name: str, kind: str) -> str:
    value = context.credentials.get(name)
    if not value:
        raise ConfigError(f"credentials need {name!r} (auth kind {kind} of this definition)")
    return str(value)


def build_auth(definition: Definition, context: ConnectorContext) -> httpx.Auth:
    """The auth flow the definition's ``auth.kind`` names, from the integration's secrets."""
    spec = definition.auth
    if spec.kind == "basic":
        user = _credential(context, spec.username, spec.kind)
        return httpx.BasicAuth(user, _credential(context, spec.password, spec.kind))
    key = _credential(context, spec.credential, spec.kind)
    if spec.kind == "bearer":
        return BearerAuth(key)
    if spec.kind == "api_key_header":
        return ApiKeyAuth(key, name=str(spec.name), location="header")
    return ApiKeyAuth(key, name=str(spec.name), location="query")


def rate_profile(definition: Definition, named: str | None) -> RateProfile:
    """The integration's named profile, else the definition's own ``rate_limit``."""
    if named:
        try:
            return profile(named)
        except KeyError as error:
            raise ConfigError(str(error.args[0])) from None
    budgets = tuple(Budget(r.limit, r.period) for r in definition.rate_limit)
    return RateProfile(f"rest-{definition.name}", budgets, definition.rate_utilisation)


def error_hook(definition: Definition) -> Callable[[httpx.Response], ConnectorError | None]:
    """Classify by status as usual, with the message and code where the definition says."""
    spec = definition.errors

    def hook(response: httpx.Response) -> ConnectorError | None:
        if response.status_code < 400 or not (spec.message or spec.code):
            return None
        found = classify(response)
        if found is None or isinstance(found, RateLimited):
            return None  # 429s keep the layer's Retry-After handling
        try:
            body = response.json()
        except ValueError:
            return found
        message = dig(body, spec.message) if spec.message else None
        code = dig(body, spec.code) if spec.code else None
        details = dig(body, spec.details) if spec.details else None
        text = str(message or found.message)
        if isinstance(details, list) and details:
            text += ": " + "; ".join(
                f"{d.get('field')}: {d.get('message')}" for d in details if isinstance(d, dict)
            )
        return type(found)(text[:300], status=response.status_code, code=str(code or found.code))

    return hook


def connect(definition: Definition, context: ConnectorContext) -> ConnectorHttp:
    """The integration's client, pinned to its base URL."""
    base_url = context.base_url or definition.base_url
    if not base_url:
        raise ConfigError(f"{definition.name}: no base_url (give one to the integration)")
    limiter = RateLimiter(
        rate_profile(definition, context.rate_profile),
        str(context.integration_id),
        context.windows,
        clock=context.clock,
        sleep=context.sleep,
        max_wait=context.http.max_rate_wait,
    )
    return build_http(
        base_url=base_url,
        provider=definition.name,
        auth=build_auth(definition, context),
        integration_id=context.integration_id,
        limiter=limiter,
        hooks=(error_hook(definition),),
        settings=context.http,
        transport=context.transport,
        verify=context.verify,
        sleep=context.sleep,
    )
