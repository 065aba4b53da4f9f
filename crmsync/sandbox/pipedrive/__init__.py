"""Pipedrive sandbox: API v1 and v2, OAuth, custom fields, token budgets, Basic-auth webhooks.

See docs/sandboxes-pipedrive-totalexpert.md for what it serves and how to configure it.
"""

from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox as Sandbox

__all__ = ["Sandbox"]
