"""Salesforce, declared once (``connectors.spec``)."""

from __future__ import annotations

from crmsync.connectors.http.ratelimit import Budget, RateProfile
from crmsync.connectors.oauth_app import OAuthApp
from crmsync.connectors.salesforce.errors import salesforce_errors
from crmsync.connectors.spec import ProviderSpec

__all__ = ["LOGIN_URL", "OAUTH", "SCOPES", "SPEC", "TOKEN_PATH"]

LOGIN_URL = "https://login.salesforce.com"
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105  (a path, not a secret)
# "refresh_token" is what makes the token answer carry a refresh token
SCOPES = ("api", "refresh_token")

OAUTH = OAuthApp(
    label="Salesforce",
    settings_name="salesforce",
    authorize_path="/services/oauth2/authorize",
    token_path=TOKEN_PATH,
    scopes=SCOPES,
    response_type=True,
    missing_hint=" (or the connected app's client_id and client_secret in the credentials)",
)

SPEC = ProviderSpec(
    name="salesforce",
    label="Salesforce",
    connector="crmsync.connectors.salesforce.connector:SalesforceConnector.from_context",
    objects="crmsync.connectors.salesforce.mappers:SOBJECTS",
    api_url=LOGIN_URL,
    credential_sets=(frozenset({"access_token"}), frozenset({"client_id", "client_secret"})),
    # org_id: checked against every Outbound Message (setup reads it)
    optional=frozenset({"refresh_token", "expires_at", "instance_url", "org_id"}),
    # the web-server flow with PKCE, on the login host, test host or My Domain
    oauth=OAUTH,
    hosts=("*.my.salesforce.com", "*.salesforce.com", "*.force.com"),
    rate_profiles=(
        # a rolling 24 h allocation; counted in hour-long fixed windows to stay small (the
        # connector also reads the org's own count from Sforce-Limit-Info)
        RateProfile("salesforce-developer", (Budget(15_000 / 24, 3600, "fixed"),)),
        RateProfile("salesforce-enterprise", (Budget(100_000 / 24, 3600, "fixed"),)),
    ),
    error_hooks=(salesforce_errors,),
    config_keys=frozenset({"external_ids"}),
    check_config="crmsync.connectors.salesforce.settings:check",
    default_mapping="salesforce",
    sandbox="crmsync.sandbox.salesforce",
)
