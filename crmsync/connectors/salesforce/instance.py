"""Where a Salesforce org's REST API lives, and following it when a refresh moves it.

A token response names the org's ``instance_url``. It usually stays put, but an org
migrated to another instance gets a new one with its next token; calls to the old host
then fail or are redirected (which the host guard refuses). ``InstanceAuth`` sends
every request to the instance the current token names, so the call that triggered the
refresh and every later one go to the new instance; ``on_refresh`` stores the new URL
with the credentials, so the integration's next connector starts there.

Only Salesforce hosts are followed. A loopback instance is followed only when the
integration's own base URL is loopback too: the sandbox, allowed in sandbox mode only.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import OAuth2Auth
from crmsync.connectors.http.guard import is_loopback_host
from crmsync.connectors.registry import ConnectorContext

__all__ = ["LOGIN_HOSTS", "InstanceAuth", "acceptable", "host_acceptable", "instance_url"]

LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})
# the only hosts an instance URL from a token response may name
_INSTANCE_SUFFIXES = (".salesforce.com", ".force.com")


def host_acceptable(host: str, base_url: str) -> bool:
    """Whether requests may go to ``host`` for an integration on ``base_url``."""
    host = host.lower().rstrip(".")
    if host.endswith(_INSTANCE_SUFFIXES):
        return True
    return is_loopback_host(host) and is_loopback_host(httpx.URL(base_url).host)


def acceptable(url: str, base_url: str) -> bool:
    """Whether ``url`` may serve as the instance URL of an integration on ``base_url``."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return False
    if not parsed.host or parsed.userinfo:
        return False
    if parsed.host.lower().endswith(_INSTANCE_SUFFIXES):
        return parsed.scheme == "https"
    return parsed.scheme in ("http", "https") and host_acceptable(parsed.host, base_url)


def instance_url(context: ConnectorContext) -> str:
    """Where the REST API of this org lives.

    The ``instance_url`` kept in the credentials (from the latest token response) comes
    first; without one, a base URL other than a login host is the instance itself.
    """
    base = context.base_url.rstrip("/")
    named = str(context.credentials.get("instance_url") or "").rstrip("/")
    if named and acceptable(named, base):
        return named
    if httpx.URL(base).host not in LOGIN_HOSTS:
        return base
    raise ConfigError("Salesforce credentials need the instance_url of the org (https)")


class InstanceAuth(httpx.Auth):
    """``OAuth2Auth`` whose requests go to the instance its current token names."""

    requires_response_body = False

    def __init__(self, inner: OAuth2Auth, instance: str, base_url: str):
        self._inner = inner
        self._first = httpx.URL(instance)
        self._base = base_url

    @property
    def instance(self) -> httpx.URL:
        """The instance calls go to now."""
        token = self._inner.token
        named = token.extras.get("instance_url") if token is not None else None
        if named and acceptable(named, self._base):
            return httpx.URL(named.rstrip("/"))
        return self._first

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self._inner.auth_flow(request)
        outgoing = next(flow)
        while True:
            # aimed after the inner flow ran: a refresh it made may have moved the org
            self._aim(outgoing)
            response = yield outgoing
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    def _aim(self, request: httpx.Request) -> None:
        target = self.instance
        url = request.url
        if (url.scheme, url.host, url.port) == (target.scheme, target.host, target.port):
            return
        request.url = url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        request.headers["Host"] = request.url.netloc.decode("ascii")

    def __repr__(self) -> str:
        return f"InstanceAuth(instance={self.instance.host}, token=****)"
