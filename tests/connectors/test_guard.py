"""SSRF guard: provider hosts, public addresses only, loopback only in sandbox mode."""

from __future__ import annotations

import uuid

import httpx
import pytest

from crmsync.connectors.http.guard import (
    GuardedTransport,
    UnsafeURL,
    check_url,
    host_allowed,
    is_public_address,
)
from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.registry import ConnectorContext, build

PUBLIC = "104.16.1.1"
DNS = {
    "api.hubapi.com": [PUBLIC],
    "acme.my.salesforce.com": [PUBLIC],
    "login.salesforce.com": [PUBLIC],
    "acme.pipedrive.com": [PUBLIC],
    "api.pipedrive.com": [PUBLIC],
    "public.totalexpert.net": [PUBLIC],
    "crm.example.com": [PUBLIC],
    "internal.example.com": ["10.0.0.5"],
    "mixed.example.com": [PUBLIC, "192.168.1.10"],
    "metadata.example.com": ["169.254.169.254"],
    "v6local.example.com": ["fe80::1"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "cgnat.example.com": ["100.64.0.1"],
    "evil.my.salesforce.com.attacker.net": [PUBLIC],
}


def fake_dns(host: str, port: int) -> list[str]:
    return DNS.get(host, [])


ALLOWED = [
    ("https://api.hubapi.com", "hubspot", False),
    ("https://acme.my.salesforce.com/services/data/v59.0", "salesforce", False),
    ("https://login.salesforce.com", "salesforce", False),
    ("https://api.pipedrive.com/v1", "pipedrive", False),
    ("https://acme.pipedrive.com/api/v2", "pipedrive", False),
    ("https://public.totalexpert.net/", "totalexpert", False),
    ("https://crm.example.com/api", "generic", False),
    ("http://127.0.0.1:8123", "hubspot", True),
    ("https://localhost:8443", "salesforce", True),
    ("http://[::1]:9000", "generic", True),
]


@pytest.mark.parametrize(("url", "provider", "sandbox"), ALLOWED)
def test_allowed(url: str, provider: str, sandbox: bool) -> None:
    assert check_url(url, provider, sandbox_mode=sandbox, resolve=fake_dns).host


REFUSED = [
    ("http://api.hubapi.com", "hubspot", "https"),
    ("https://api.hubapi.com.evil.com", "hubspot", "not a hubspot host"),
    ("https://salesforce.com.attacker.net", "salesforce", "not a salesforce host"),
    ("https://evil.my.salesforce.com.attacker.net", "salesforce", "not a salesforce host"),
    ("https://api.pipedrive.com", "hubspot", "not a hubspot host"),
    ("https://evilpipedrive.com", "pipedrive", "not a pipedrive host"),
    ("http://127.0.0.1:8123", "hubspot", "sandbox mode"),
    ("https://localhost", "generic", "sandbox mode"),
    ("http://[::1]/", "generic", "sandbox mode"),
    ("https://internal.example.com", "generic", "private"),
    ("https://mixed.example.com", "generic", "private"),
    ("https://metadata.example.com", "generic", "private"),
    ("https://169.254.169.254/latest", "generic", "private"),
    ("https://10.1.2.3", "generic", "private"),
    ("https://v6local.example.com", "generic", "private"),
    ("https://mapped.example.com", "generic", "private"),
    ("https://cgnat.example.com", "generic", "private"),
    ("https://nowhere.example.com", "generic", "does not resolve"),
    ("https://user:pw@crm.example.com", "generic", "credentials"),
    ("ftp://crm.example.com", "generic", "http"),
    ("not a url", "generic", "absolute"),
    ("https://crm.example.com", "unknowncrm", "unknown provider"),
]


@pytest.mark.parametrize(("url", "provider", "reason"), REFUSED)
def test_refused(url: str, provider: str, reason: str) -> None:
    with pytest.raises(UnsafeURL, match=reason):
        check_url(url, provider, resolve=fake_dns)


def test_sandbox_mode_still_refuses_private_networks() -> None:
    with pytest.raises(UnsafeURL):
        check_url("https://10.0.0.5", "generic", sandbox_mode=True, resolve=fake_dns)


@pytest.mark.parametrize(("url", "provider", "sandbox"), ALLOWED)
def test_the_rest_alias_is_guarded_like_generic(url: str, provider: str, sandbox: bool) -> None:
    if provider == "generic":
        assert check_url(url, "rest", sandbox_mode=sandbox, resolve=fake_dns).host


@pytest.mark.parametrize(("url", "provider", "reason"), REFUSED)
def test_the_rest_alias_refuses_like_generic(url: str, provider: str, reason: str) -> None:
    if provider == "generic":
        with pytest.raises(UnsafeURL, match=reason):
            check_url(url, "rest", resolve=fake_dns)


def test_every_resolved_address_is_checked() -> None:
    seen: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        seen.append((host, port))
        return [PUBLIC, "2606:4700::1111", "fd00::5"]

    with pytest.raises(UnsafeURL, match="private"):
        check_url("https://crm.example.com:8443/api", "generic", resolve=resolve)
    assert seen == [("crm.example.com", 8443)]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("169.254.1.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("garbage", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_wildcards_need_a_subdomain() -> None:
    assert host_allowed("a.b.salesforce.com", ["*.salesforce.com"])
    assert not host_allowed("salesforce.com", ["*.salesforce.com"])
    assert not host_allowed("xsalesforce.com", ["*.salesforce.com"])


def _client(handler: httpx.MockTransport, hosts: list[str]) -> httpx.Client:
    return httpx.Client(transport=GuardedTransport(handler, hosts), follow_redirects=True)


def test_transport_refuses_redirect_to_another_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.hubapi.com":
            return httpx.Response(302, headers={"Location": "https://169.254.169.254/meta"})
        return httpx.Response(200, text="metadata")

    with (
        _client(httpx.MockTransport(handler), ["api.hubapi.com"]) as client,
        pytest.raises(UnsafeURL, match="redirect"),
    ):
        client.get("https://api.hubapi.com/x")


def test_transport_follows_same_host_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new"})
        return httpx.Response(200, text="ok")

    with _client(httpx.MockTransport(handler), ["api.hubapi.com"]) as client:
        assert client.get("https://api.hubapi.com/old").text == "ok"


def test_transport_refuses_unlisted_hosts() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    with (
        _client(httpx.MockTransport(handler), ["api.hubapi.com"]) as client,
        pytest.raises(UnsafeURL),
    ):
        client.get("https://10.0.0.5/admin")
    assert calls == []


def test_transport_admits_hosts_by_rule() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    guard = GuardedTransport(
        httpx.MockTransport(handler), ["login.salesforce.com"], also=lambda h: h.endswith(".sf.x")
    )
    with httpx.Client(transport=guard) as client:
        assert client.get("https://eu1.sf.x/data").status_code == 200
        with pytest.raises(UnsafeURL):
            client.get("https://eu1.sf.y/data")


def test_a_generic_connector_refuses_a_redirect_off_its_host() -> None:
    sent: list[str] = []

    def crm(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url.host))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url="https://crm.example.com",
        credentials={"api_key": "k"},
        rate_profile="unlimited",
        transport=httpx.MockTransport(crm),
        windows=MemoryWindows(),
    )
    connector = build("generic", context)
    with pytest.raises(UnsafeURL, match="redirect"):
        connector.describe("contacts")
    assert sent == ["crm.example.com"]


@pytest.mark.parametrize(
    ("instance_url", "addresses", "refused"),
    [
        ("https://evil.my.salesforce.com", ["127.0.0.1"], True),
        ("https://evil.my.salesforce.com", ["10.0.0.5", PUBLIC], True),
        ("https://x.lightning.force.com", ["169.254.169.254"], True),
        ("https://attacker.example.net", [PUBLIC], True),
        ("https://acme.my.salesforce.com", [PUBLIC], False),
    ],
)
def test_a_salesforce_instance_url_credential_passes_the_address_check(
    instance_url: str, addresses: list[str], refused: bool
) -> None:
    from crmsync.integrations.providers import provider
    from crmsync.integrations.service import check_credential_urls
    from crmsync.records.errors import RecordInvalid

    def check() -> None:
        check_credential_urls(
            provider("salesforce"),
            {"access_token": "t", "instance_url": instance_url},
            sandbox_mode=False,
            resolve=lambda _host, _port: addresses,
        )

    if refused:
        with pytest.raises(RecordInvalid, match=r"credentials\.instance_url"):
            check()
    else:
        check()
