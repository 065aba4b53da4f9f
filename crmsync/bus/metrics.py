"""Prometheus metrics of the event bus (exported with the rest at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BUS_MESSAGES = Counter(
    "crmsync_bus_messages_total",
    "Bus messages taken in, by outcome (stored, duplicate, dead); rate() is the throughput",
    ["source", "outcome"],
)
BUS_LAG = Gauge(
    "crmsync_bus_lag_messages",
    "Messages on the source not yet taken in (read but unacknowledged included)",
    ["source"],
)
BUS_BATCH_SECONDS = Histogram(
    "crmsync_bus_batch_seconds",
    "From a batch read to its commit",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BUS_PUBLISHED = Counter(
    "crmsync_bus_published_total", "Outbound events published to a bus", ["target"]
)
