"""HubSpot CRM sandbox (``crmsync sandbox --providers hubspot``)."""

from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox

Sandbox = HubSpotSandbox

__all__ = ["HubSpotSandbox", "Sandbox"]
