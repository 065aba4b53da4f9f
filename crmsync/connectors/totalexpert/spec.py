"""Total Expert, declared once (``connectors.spec``).

It has no consent page: an integration signs in with client credentials
(``totalexpert.auth``).
"""

from __future__ import annotations

from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.http.profiles import EDGE
from crmsync.connectors.http.ratelimit import Budget, RateProfile
from crmsync.connectors.spec import ProviderSpec

__all__ = ["API_URL", "SPEC"]

API_URL = "https://public.totalexpert.net"

SPEC = ProviderSpec(
    name="totalexpert",
    label="Total Expert",
    connector="crmsync.connectors.totalexpert.connector:TotalExpertConnector.from_context",
    objects="crmsync.connectors.totalexpert.connector:CAPABILITIES",
    api_url=API_URL,
    credential_sets=(frozenset({"client_id", "client_secret"}), frozenset({"access_token"})),
    optional=frozenset({"refresh_token", "expires_at", "webhook_secret"}),
    hosts=("public.totalexpert.net",),
    rate_profiles=(RateProfile("totalexpert", (Budget(1000, 60),), EDGE),),
    error_hooks=(oauth_errors,),
    default_mapping="totalexpert",
    sandbox="crmsync.sandbox.totalexpert",
)
