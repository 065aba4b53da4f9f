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
CRM_API_CALLS = Counter(
    "crmsync_crm_api_calls_total",
    "Calls made to CRM APIs, by answer status",
    ["provider", "integration_id", "status"],
)
CRM_RATE_LIMITED = Counter(
    "crmsync_crm_rate_limited_total",
    "CRM answers that were 429 (rate limited)",
    ["provider", "integration_id"],
)
SYNC_LATENCY = Histogram(
    "crmsync_sync_latency_seconds",
    "From a change committed to the CRM acknowledging it",
    ["provider"],
    buckets=(0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800),
)
SYNC_JOBS_SETTLED = Counter(
    "crmsync_sync_jobs_settled_total", "Sync jobs finished, by outcome", ["status"]
)
