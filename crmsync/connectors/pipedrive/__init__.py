"""The Pipedrive connector (API v2, with v1 where v2 has no endpoint)."""
