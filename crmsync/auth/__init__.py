"""API keys, roles and the permission table."""
