"""SSRF guard for user-supplied base and instance URLs.

An integration's URL must be https on its provider's hosts (``ProviderSpec.hosts``; any
public host for the generic REST connector), and every address the host resolves to must
be public. Loopback (http or https) is accepted only in sandbox mode, where the built-in
CRM emulators run on 127.0.0.1. ``GuardedTransport`` keeps a client on the hosts it was
configured for, so a redirect cannot walk it onto another host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

import httpx

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.providers import find

__all__ = [
    "GuardedTransport",
    "Resolver",
    "UnsafeURL",
    "check_url",
    "host_allowed",
    "is_loopback_host",
    "is_public_address",
    "system_resolver",
]

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

Resolver = Callable[[str, int], list[str]]
"""Resolves a host and port to IP address strings."""


class UnsafeURL(ConfigError):
    """A URL the guard refuses; the message says which rule and never echoes credentials."""


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses the system resolver gives for ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """Whether an IP address is globally routable (not private, loopback, link-local…)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether ``host`` matches one of the provider's host patterns."""
    for pattern in patterns:
        if pattern == "*":
            return True
        if pattern.startswith("*."):
            suffix = pattern[1:]
            if host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif host == pattern:
            return True
    return False


def check_url(
    url: str,
    provider: str,
    *,
    sandbox_mode: bool = False,
    resolve: Resolver = system_resolver,
) -> httpx.URL:
    """The parsed URL when it is safe to call for ``provider``; ``UnsafeURL`` otherwise."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UnsafeURL("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeURL("URL must be absolute http(s) with a host")
    if parsed.userinfo:
        raise UnsafeURL("URL must not carry credentials; use the integration's credentials")
    host = parsed.host.lower().rstrip(".")
    if is_loopback_host(host):
        if not sandbox_mode:
            raise UnsafeURL("loopback addresses are allowed only in sandbox mode")
        return parsed
    if parsed.scheme != "https":
        raise UnsafeURL("URL must use https")
    spec = find(provider)
    if spec is None:
        raise UnsafeURL(f"unknown provider {provider!r}")
    patterns = spec.hosts
    if not host_allowed(host, patterns):
        raise UnsafeURL(f"{host} is not a {provider} host (allowed: {', '.join(patterns)})")
    addresses = [host] if _is_ip(host) else resolve(host, parsed.port or 443)
    if not addresses:
        raise UnsafeURL(f"{host} does not resolve")
    if not all(is_public_address(a) for a in addresses):
        raise UnsafeURL(f"{host} resolves to a private, loopback or link-local address")
    return parsed


class GuardedTransport(httpx.BaseTransport):
    """Sends only to ``hosts`` and refuses any redirect that leaves the request's host.

    ``also`` admits further hosts by rule, for providers that move an integration to
    another host of theirs (a Salesforce token response naming a new instance URL).
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        hosts: Iterable[str],
        also: Callable[[str], bool] | None = None,
    ):
        self._inner = inner
        self._hosts = frozenset(h.lower().rstrip(".") for h in hosts)
        self._also = also

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower().rstrip(".")
        if host not in self._hosts and not (self._also is not None and self._also(host)):
            raise UnsafeURL(f"requests to {host} are not allowed for this integration")
        response = self._inner.handle_request(request)
        location = response.headers.get("location")
        if response.is_redirect and location is not None:
            target = request.url.join(location)
            if target.host.lower().rstrip(".") != host:
                response.close()
                raise UnsafeURL(f"refused a redirect from {host} to {target.host}")
        return response

    def close(self) -> None:
        self._inner.close()
