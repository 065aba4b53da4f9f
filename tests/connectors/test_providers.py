"""The provider registry: one spec per provider package, and every provider table a view
of it. A new provider is one package; the last test adds one and finds it everywhere."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crmsync.connectors
from crmsync import sandbox
from crmsync.connectors import providers
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http.guard import UnsafeURL, check_url
from crmsync.connectors.http.profiles import profile, profiles
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.registry import factory
from crmsync.mapping.defaults import PROVIDERS as MAPPING_FILES
from crmsync.mapping.defaults import default_mapping

NAMES = ["generic", "hubspot", "pipedrive", "salesforce", "totalexpert"]


def test_every_provider_package_declares_one_spec() -> None:
    assert providers.names() == NAMES
    assert all(providers.get(name).name == name for name in NAMES)


def _hooks(name: str) -> list[Any]:
    spec = providers.get(name)
    return [*spec.error_hooks, *(spec.oauth.hooks if spec.oauth else ())]


@pytest.mark.parametrize("name", NAMES)
def test_a_providers_error_hooks_live_in_its_own_package(name: str) -> None:
    """A hook is the provider's own (in its package) or shared by several providers (in
    ``connectors/http``): one provider is one package."""
    own = _package_of(name)
    for hook in _hooks(name):
        home = hook.__module__.rsplit(".", 1)[0]
        users = [n for n in NAMES if hook in _hooks(n)]
        assert home == own or (home == "crmsync.connectors.http" and len(users) > 1), hook


def _package_of(name: str) -> str:
    spec = providers.get(name)
    return next(
        m.removesuffix(".spec")
        for m, module in list(sys.modules.items())
        if m.startswith("crmsync.connectors.") and getattr(module, "SPEC", None) is spec
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_spec_points_at_things_that_exist(name: str) -> None:
    spec = providers.get(name)
    assert callable(factory(name))
    assert spec.default_mapping in MAPPING_FILES
    assert sandbox.PROVIDERS[name] == spec.sandbox
    assert spec.hosts and spec.error_hooks and spec.credential_sets
    assert all(profile(p.name) is p for p in spec.rate_profiles)
    assert spec.supported_objects({}) >= {"contacts"}


def test_a_spec_says_how_its_object_types_relate() -> None:
    hubspot = {
        (r.source, r.field): remote for r, remote in providers.get("hubspot").relations({}).items()
    }
    assert hubspot[("deals", "contact_id")] == "associations:contacts"
    assert hubspot[("contacts", "company_id")] == "associations:companies"
    for name in NAMES:
        spec = providers.get(name)
        objects = spec.supported_objects({})
        assert all({r.source, r.target} <= objects for r in spec.relations({}))


def test_rate_profiles_and_connector_settings_belong_to_one_provider() -> None:
    declared = [p.name for spec in providers.specs().values() for p in spec.rate_profiles]
    assert len(declared) == len(set(declared))
    assert set(profiles()) == {*declared, "unlimited"}
    keys = [k for spec in providers.specs().values() for k in spec.config_keys]
    assert len(keys) == len(set(keys))


def test_an_alias_resolves_to_its_provider_and_its_default_mapping() -> None:
    # integrations stored as "rest" (the generic provider's early name) still map
    assert providers.canonical("rest") == "generic"
    assert providers.get("rest") is providers.get("generic")
    assert default_mapping(providers.get("rest").default_mapping) == default_mapping("generic")


def test_an_unknown_provider_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="no connector for provider 'zoho'"):
        factory("zoho")
    with pytest.raises(UnsafeURL, match="unknown provider"):
        check_url("https://api.zoho.com", "zoho")


_SCOPE = (
    "oauth+crm.objects.contacts.read+crm.objects.contacts.write+crm.objects.companies.read"
    "+crm.objects.companies.write+crm.objects.deals.read+crm.objects.deals.write"
    "+crm.schemas.contacts.read+tickets"
)
_CB = "redirect_uri=https%3A%2F%2Fcrm%2Fcb"
_PKCE = "&code_challenge=ch&code_challenge_method=S256"
EMULATOR = "http://127.0.0.1:9000/crm"


@pytest.mark.parametrize(
    ("name", "base", "consent", "token"),
    [
        ("hubspot", "https://api.hubapi.com",
         f"https://app.hubspot.com/oauth/authorize?client_id=cid&{_CB}&scope={_SCOPE}&state=st{_PKCE}",
         "https://api.hubapi.com/oauth/v1/token"),
        ("hubspot", EMULATOR,
         f"{EMULATOR}/oauth/authorize?client_id=cid&{_CB}&scope={_SCOPE}&state=st{_PKCE}",
         f"{EMULATOR}/oauth/v1/token"),
        ("salesforce", "https://login.salesforce.com",
         "https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=cid"
         f"&{_CB}&scope=api+refresh_token&state=st{_PKCE}",
         "https://login.salesforce.com/services/oauth2/token"),
        ("salesforce", EMULATOR,
         f"{EMULATOR}/services/oauth2/authorize?response_type=code&client_id=cid"
         f"&{_CB}&scope=api+refresh_token&state=st{_PKCE}",
         f"{EMULATOR}/services/oauth2/token"),
        # Pipedrive takes no PKCE, and its real OAuth server is a host of its own
        ("pipedrive", "https://api.pipedrive.com",
         f"https://oauth.pipedrive.com/oauth/authorize?client_id=cid&{_CB}&state=st",
         "https://oauth.pipedrive.com/oauth/token"),
        ("pipedrive", EMULATOR,
         f"{EMULATOR}/oauth/authorize?client_id=cid&{_CB}&state=st",
         f"{EMULATOR}/oauth/token"),
    ],
)  # fmt: skip
def test_one_authorization_code_flow_keeps_each_providers_urls(
    name: str, base: str, consent: str, token: str
) -> None:
    app = providers.get(name).oauth
    assert app is not None
    assert app.authorize_url(base, "cid", "https://crm/cb", "st", "ch") == consent
    endpoint = app.token_endpoint(base, "cid", Secret("sec"))
    try:
        assert endpoint.url == token
        assert endpoint.client_auth == ("basic" if name == "pipedrive" else "body")
    finally:
        endpoint.http.close()


def test_an_oauth_app_without_a_client_names_the_settings_to_set() -> None:
    app = providers.get("hubspot").oauth
    assert app is not None
    with pytest.raises(
        ConfigError, match="CRMSYNC_HUBSPOT_CLIENT_ID and CRMSYNC_HUBSPOT_CLIENT_SECRET"
    ):
        app.token_endpoint("https://api.hubapi.com", None, None)


_ZOHO_SPEC = """
from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.http.ratelimit import Budget, RateProfile
from crmsync.connectors.spec import ProviderSpec

SPEC = ProviderSpec(
    name="zoho",
    label="Zoho CRM",
    connector="crmsync.connectors.rest.connector:RestConnector.from_context",
    objects="crmsync.connectors.hubspot.connector:CAPABILITIES",
    api_url="https://www.zohoapis.com",
    credential_sets=(frozenset({"access_token"}),),
    hosts=("www.zohoapis.com",),
    rate_profiles=(RateProfile("zoho-standard", (Budget(100, 60),)),),
    error_hooks=(oauth_errors,),
    default_mapping="generic",
    sandbox="crmsync.sandbox.generic",
)
"""


@pytest.fixture
def zoho(tmp_path: Path) -> Iterator[None]:
    package = tmp_path / "zoho"
    package.mkdir()
    (package / "__init__.py").write_text('"""Zoho CRM."""\n')
    (package / "spec.py").write_text(_ZOHO_SPEC)
    paths: list[str] = crmsync.connectors.__path__  # type: ignore[assignment]
    paths.append(str(tmp_path))
    providers.specs.cache_clear()
    try:
        yield
    finally:
        paths.remove(str(tmp_path))
        for module in ("crmsync.connectors.zoho.spec", "crmsync.connectors.zoho"):
            sys.modules.pop(module, None)
        providers.specs.cache_clear()


def test_a_new_provider_is_one_package(zoho: None) -> None:
    spec = providers.get("zoho")
    assert "zoho" in providers.names()
    assert callable(factory("zoho"))
    assert profile("zoho-standard").budgets[0].limit == 100
    assert spec.supported_objects({}) >= {"contacts"}
    assert str(check_url("https://www.zohoapis.com/crm", "zoho", resolve=lambda h, p: ["8.8.8.8"]))
    with pytest.raises(UnsafeURL, match="not a zoho host"):
        check_url("https://evil.example.com", "zoho", resolve=lambda h, p: ["8.8.8.8"])
