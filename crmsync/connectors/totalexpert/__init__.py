"""The Total Expert connector (public API v1)."""
