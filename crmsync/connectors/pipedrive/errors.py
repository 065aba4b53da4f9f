"""Pipedrive's error answers that a status code alone gets wrong (``SPEC.error_hooks``)."""

from __future__ import annotations

import httpx

from crmsync.connectors.errors import ConnectorError, RateLimited
from crmsync.connectors.http.error_hooks import oauth_errors

__all__ = ["EDGE_BLOCK_WAIT", "pipedrive_errors"]

EDGE_BLOCK_WAIT = 60.0  # Cloudflare's block after persisting through 429s


def pipedrive_errors(response: httpx.Response) -> ConnectorError | None:
    """Pipedrive: persisting after a 429 earns a Cloudflare 403 HTML page."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if status == 403 and "html" in content_type:
        return RateLimited(
            "blocked by the provider's edge after rate limiting",
            retry_after=EDGE_BLOCK_WAIT,
            status=status,
            code="EDGE_BLOCK",
        )
    return oauth_errors(response)
