"""What crmsync knows about each provider before any connector runs: its real API URL,
the credential sets it accepts, and its OAuth app (where it has one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.hubspot import auth as hubspot_auth
from crmsync.connectors.names import canonical
from crmsync.connectors.pipedrive import auth as pipedrive_auth
from crmsync.connectors.salesforce import auth as salesforce_auth
from crmsync.connectors.totalexpert import auth as totalexpert_auth
from crmsync.records.errors import RecordInvalid

__all__ = ["PROVIDERS", "OAuthApp", "Provider", "provider"]


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """A provider's authorization-code flow: its consent page and its token endpoint.

    ``authorize_url(base_url, client_id, redirect_uri, state, code_challenge)``;
    ``token_endpoint(base_url, client_id, client_secret, transport=, verify=)``.
    """

    authorize_url: Callable[[str, str, str, str, str | None], str]
    token_endpoint: Callable[..., TokenEndpoint]
    pkce: bool = True


@dataclass(frozen=True, slots=True)
class Provider:
    """One CRM provider: where its API is and which credentials it takes."""

    name: str
    label: str
    api_url: str | None  # None: the user must give one (generic REST CRMs)
    credential_sets: tuple[frozenset[str], ...]  # one of these must be complete
    optional: frozenset[str] = frozenset()
    oauth: OAuthApp | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> frozenset[str]:
        """Every credential name this provider accepts."""
        return frozenset().union(*self.credential_sets, self.optional)

    def check_credentials(self, values: Mapping[str, Any]) -> None:
        """``RecordInvalid`` naming what is missing or unknown."""
        unknown = sorted(set(values) - self.allowed)
        if unknown:
            raise RecordInvalid(
                f"unknown credentials for {self.name}: {', '.join(unknown)}",
                {"allowed": sorted(self.allowed)},
            )
        given = {k for k, v in values.items() if v not in (None, "")}
        if not any(needed <= given for needed in self.credential_sets):
            choices = " or ".join(" + ".join(sorted(s)) for s in self.credential_sets)
            raise RecordInvalid(f"{self.name} credentials need {choices}")


_OAUTH_TOKENS = frozenset({"refresh_token", "expires_at"})

PROVIDERS: Mapping[str, Provider] = {
    p.name: p
    for p in (
        Provider(
            "hubspot",
            "HubSpot",
            hubspot_auth.API_URL,
            (frozenset({"access_token"}),),
            # client_secret: a private app's own secret, which signs its webhooks
            optional=_OAUTH_TOKENS | {"client_secret", "app_id", "developer_api_key"},
            oauth=OAuthApp(hubspot_auth.authorize_url, hubspot_auth.token_endpoint),
        ),
        Provider(
            "salesforce",
            "Salesforce",
            salesforce_auth.LOGIN_URL,
            (frozenset({"access_token"}), frozenset({"client_id", "client_secret"})),
            # org_id: checked against every Outbound Message (setup reads it)
            optional=_OAUTH_TOKENS | {"instance_url", "org_id"},
            # the web-server flow with PKCE, on the login host, test host or My Domain
            oauth=OAuthApp(salesforce_auth.authorize_url, salesforce_auth.oauth_token_endpoint),
        ),
        Provider(
            "pipedrive",
            "Pipedrive",
            pipedrive_auth.API_URL,
            (frozenset({"api_token"}), frozenset({"access_token"})),
            optional=_OAUTH_TOKENS | {"api_domain", "webhook_user", "webhook_password"},
            # Pipedrive's authorization-code flow takes no PKCE
            oauth=OAuthApp(pipedrive_auth.authorize_url, pipedrive_auth.token_endpoint, pkce=False),
        ),
        Provider(
            "totalexpert",
            "Total Expert",
            totalexpert_auth.API_URL,
            (frozenset({"client_id", "client_secret"}), frozenset({"access_token"})),
            optional=_OAUTH_TOKENS | {"webhook_secret"},
        ),
        # a REST CRM described by a definition (connectors/rest): the built-in one for
        # the generic REST CRM sandbox, or the integration's own in config.definition
        Provider(
            "generic",
            "REST CRM",
            None,
            (frozenset({"api_key"}),),
            optional=frozenset({"webhook_secret"}),
        ),
    )
}


def provider(name: str) -> Provider:
    """The provider called ``name`` (or an alias of it); ``RecordInvalid`` lists the known
    ones."""
    found = PROVIDERS.get(canonical(name))
    if found is None:
        raise RecordInvalid(f"unknown provider {name!r}", {"known": sorted(PROVIDERS)})
    return found
