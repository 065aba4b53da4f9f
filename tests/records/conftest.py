"""The CRM sandboxes and a sandbox-mode app, shared with the owner tests."""

from tests.owners.conftest import crm_app, crm_client, crms

__all__ = ["crm_app", "crm_client", "crms"]
