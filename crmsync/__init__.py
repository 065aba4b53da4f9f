"""crmsync: a self-hosted CRM integration hub."""

__version__ = "0.1.0"
