"""Prometheus metrics crmsync exports at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "crmsync_http_requests_total", "API requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "crmsync_http_request_duration_seconds",
    "API request duration",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RECORDS_CHANGED = Counter(
    "crmsync_records_changed_total", "Records created, updated or deleted", ["type", "operation"]
)
