"""The generic REST CRM, declared once (``connectors.spec``).

A REST CRM described by a definition (``connectors.rest.definition``): the built-in one
of the generic REST CRM sandbox, or the integration's own in ``config.definition``. It
lives on the user's own host, so any public host is allowed. ``rest`` named it in early
API docs and may be stored in integrations made then.
"""

from __future__ import annotations

from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.spec import ProviderSpec

__all__ = ["SPEC"]

SPEC = ProviderSpec(
    name="generic",
    label="REST CRM",
    connector="crmsync.connectors.rest.connector:RestConnector.from_context",
    objects="crmsync.connectors.rest.settings:objects",
    api_url=None,
    credential_sets=(frozenset({"api_key"}),),
    optional=frozenset({"webhook_secret"}),
    hosts=("*",),
    error_hooks=(oauth_errors,),
    config_keys=frozenset({"definition", "definition_name"}),
    check_config="crmsync.connectors.rest.settings:check",
    default_mapping="generic",
    sandbox="crmsync.sandbox.generic",
    aliases=("rest",),
)
