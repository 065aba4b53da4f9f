"""Pipedrive, declared once (``connectors.spec``)."""

from __future__ import annotations

from crmsync.connectors.http.ratelimit import Budget, RateProfile
from crmsync.connectors.oauth_app import OAuthApp
from crmsync.connectors.pipedrive.errors import pipedrive_errors
from crmsync.connectors.spec import ProviderSpec

__all__ = ["API_URL", "OAUTH", "OAUTH_URL", "SPEC"]

API_URL = "https://api.pipedrive.com"
OAUTH_URL = "https://oauth.pipedrive.com"

OAUTH = OAuthApp(
    label="Pipedrive",
    settings_name="pipedrive",
    authorize_path="/oauth/authorize",
    token_path="/oauth/token",  # noqa: S106  (a path, not a secret)
    pkce=False,
    api_url=API_URL,
    consent_host=OAUTH_URL,
    token_host=OAUTH_URL,
    client_auth="basic",
)

SPEC = ProviderSpec(
    name="pipedrive",
    label="Pipedrive",
    connector="crmsync.connectors.pipedrive.connector:PipedriveConnector.from_context",
    objects="crmsync.connectors.pipedrive.connector:CAPABILITIES",
    api_url=API_URL,
    credential_sets=(frozenset({"api_token"}), frozenset({"access_token"})),
    optional=frozenset(
        {"refresh_token", "expires_at", "api_domain", "webhook_user", "webhook_password"}
    ),
    # the real OAuth server is its own host (an emulator serves it beside the API); no
    # PKCE; the client authenticates with HTTP Basic
    oauth=OAUTH,
    hosts=("api.pipedrive.com", "*.pipedrive.com"),
    rate_profiles=(
        # burst per 2 s per token; a call costs its endpoint's token price (daily budget
        # depends on plan and seats, so it is configured per integration). No EDGE: every
        # answer reports Pipedrive's own window, which the limiter follows
        # (pipedrive/limits.py), and 2 % of 10 searches would be a whole search less
        RateProfile("pipedrive-api-token-growth", (Budget(40, 2),)),
        RateProfile("pipedrive-oauth-growth", (Budget(160, 2),)),
        # the limiter counts a search when it leaves, the CRM when it arrives: a window a
        # tenth longer than Pipedrive's absorbs the gap between processes' sends (two
        # workers sharing the window through Redis drew one 429 in 51 calls without it)
        RateProfile("pipedrive-search", (Budget(10, 2.2),)),
    ),
    error_hooks=(pipedrive_errors,),
    default_mapping="pipedrive",
    sandbox="crmsync.sandbox.pipedrive",
)
