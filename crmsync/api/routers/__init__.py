"""API routers, one module per resource."""

API_PREFIX = "/api/v1"
