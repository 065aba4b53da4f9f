"""HubSpot, declared once (``connectors.spec``)."""

from __future__ import annotations

from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.http.profiles import DAY, EDGE
from crmsync.connectors.http.ratelimit import Budget, RateProfile
from crmsync.connectors.hubspot.errors import hubspot_errors, hubspot_token_refusals
from crmsync.connectors.oauth_app import OAuthApp
from crmsync.connectors.spec import ProviderSpec

__all__ = ["API_URL", "OAUTH", "SCOPES", "SPEC"]

API_URL = "https://api.hubapi.com"
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.schemas.contacts.read",
    "tickets",
)
_OAUTH_TOKENS = frozenset({"refresh_token", "expires_at"})

OAUTH = OAuthApp(
    label="HubSpot",
    settings_name="hubspot",
    authorize_path="/oauth/authorize",
    token_path="/oauth/v1/token",  # noqa: S106  (a path, not a secret)
    scopes=SCOPES,
    api_url=API_URL,
    # the real API's consent page lives on app.hubspot.com; an emulator serves its own
    consent_host="https://app.hubspot.com",
    # HubSpot's token endpoint names its refusals in "status", not RFC 6749's "error"
    hooks=(hubspot_token_refusals, oauth_errors),
)

SPEC = ProviderSpec(
    name="hubspot",
    label="HubSpot",
    connector="crmsync.connectors.hubspot.connector:HubSpotConnector.from_context",
    objects="crmsync.connectors.hubspot.connector:CAPABILITIES",
    api_url=API_URL,
    credential_sets=(frozenset({"access_token"}),),
    # client_secret: a private app's own secret, which signs its webhooks
    optional=_OAUTH_TOKENS | {"client_secret", "app_id", "developer_api_key"},
    oauth=OAUTH,
    hosts=("api.hubapi.com", "app.hubspot.com"),
    rate_profiles=(
        # private apps: per-app burst per 10 s, plus a daily account budget
        RateProfile("hubspot-free", (Budget(100, 10), Budget(250_000, DAY, "fixed")), EDGE),
        RateProfile("hubspot-professional", (Budget(190, 10), Budget(625_000, DAY, "fixed")), EDGE),
        RateProfile("hubspot-enterprise", (Budget(190, 10), Budget(1_000_000, DAY, "fixed")), EDGE),
        # public OAuth apps: per installing account, no daily budget
        RateProfile("hubspot-oauth", (Budget(110, 10),), EDGE),
        # small budgets keep 1.0: 2 % of 5 calls is a whole call lost per window
        RateProfile("hubspot-search", (Budget(5, 1),)),
    ),
    error_hooks=(hubspot_errors,),
    config_keys=frozenset({"custom_objects"}),
    check_config="crmsync.connectors.hubspot.settings:check",
    default_mapping="hubspot",
    sandbox="crmsync.sandbox.hubspot",
)
