"""Webhook endpoints: create, change, rotate the secret, delete. Never commits.

A secret is made by crmsync (``whsec_`` and 24 random bytes, base64, as Standard Webhooks
expects), shown once in the answer that makes it, and kept encrypted by the credentials
vault, bound to its endpoint. An endpoint's URL passes the same SSRF guard as a CRM's:
https on a public address (loopback only in sandbox mode), checked again at each send.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.connectors.http.guard import check_url
from crmsync.integrations.vault import Vault
from crmsync.store.models import OutboundEvent, WebhookEndpoint

URL_PROVIDER = "generic"  # any public https host, as a generic REST CRM


class EndpointNotFound(LookupError):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_endpoint_url(url: str, *, sandbox_mode: bool) -> str:
    """The URL when the guard accepts it; ``UnsafeURL`` (with the rule) otherwise."""
    return str(check_url(url, URL_PROVIDER, sandbox_mode=sandbox_mode))


def _seal(vault: Vault, endpoint: WebhookEndpoint, secret: str) -> str:
    return vault.encrypt(secret, workspace_id=endpoint.workspace_id, integration_id=endpoint.id)


def secret_of(vault: Vault, endpoint: WebhookEndpoint) -> str:
    return unseal(vault, endpoint.secret, endpoint.workspace_id, endpoint.id)


def unseal(vault: Vault, sealed: str, workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> str:
    """An endpoint's signing secret from its stored (sealed) form."""
    return vault.decrypt(sealed, workspace_id=workspace_id, integration_id=endpoint_id).reveal()


def create(
    session: Session,
    vault: Vault,
    workspace_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    *,
    sandbox_mode: bool,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the only time the secret is given out).

    It receives events from now on: its cursor starts at the newest outbound event.
    """
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        url=check_endpoint_url(url, sandbox_mode=sandbox_mode),
        description=description,
        event_types=sorted(set(event_types)),
        cursor=session.scalar(select(func.max(OutboundEvent.id))) or 0,
    )
    secret = new_secret()
    endpoint.secret = _seal(vault, endpoint, secret)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def get(session: Session, workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id)
    if found is None or found.workspace_id != workspace_id:
        raise EndpointNotFound(f"no webhook endpoint with id {endpoint_id}")
    return found


def rotate_secret(vault: Vault, endpoint: WebhookEndpoint) -> str:
    """A new secret, in force for every delivery sent from now on."""
    secret = new_secret()
    endpoint.secret = _seal(vault, endpoint, secret)
    endpoint.updated_at = datetime.now(UTC)
    return secret


def enable(endpoint: WebhookEndpoint) -> None:
    """Take deliveries again, starting with the events that happened while disabled."""
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.updated_at = datetime.now(UTC)


# The reason a person's choice starts with: no alert is raised for it.
BY_A_USER = "disabled by a user"


def disable(endpoint: WebhookEndpoint, reason: str) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = datetime.now(UTC)
