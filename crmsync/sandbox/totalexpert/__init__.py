"""Total Expert sandbox: client-credential tokens, de-duplicating contacts, notes, activity,
journeys, engagement, the 1,000 requests/minute limit and shared-secret webhooks.

See docs/sandboxes-pipedrive-totalexpert.md for what it serves and how to configure it.
"""

from crmsync.sandbox.totalexpert.sandbox import TotalExpertSandbox as Sandbox

__all__ = ["Sandbox"]
