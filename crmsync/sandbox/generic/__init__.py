"""Generic REST CRM sandbox (``crmsync sandbox --providers generic``)."""

from crmsync.sandbox.generic.sandbox import GenericSandbox

Sandbox = GenericSandbox

__all__ = ["GenericSandbox", "Sandbox"]
