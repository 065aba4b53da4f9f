"""Where a source is and how to read it, whichever broker it is on."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit


class Kind(StrEnum):
    REDIS = "redis"
    RABBIT = "rabbit"
    NATS = "nats"
    KAFKA = "kafka"


_SCHEMES = {
    "redis": Kind.REDIS,
    "rediss": Kind.REDIS,
    "amqp": Kind.RABBIT,
    "amqps": Kind.RABBIT,
    "nats": Kind.NATS,
    "tls": Kind.NATS,
    "kafka": Kind.KAFKA,
}


class BadSource(ValueError):
    """A source that cannot be run as given (unknown scheme, missing stream)."""


def kind_of(url: str) -> Kind:
    scheme = urlsplit(url).scheme.lower()
    try:
        return _SCHEMES[scheme]
    except KeyError:
        known = ", ".join(f"{s}://" for s in _SCHEMES)
        raise BadSource(f"unknown broker URL scheme {scheme!r}; use one of {known}") from None


def masked(url: str) -> str:
    """The URL without its password, for logs, errors and the API."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class SourceSpec:
    """One source to consume.

    ``stream`` is the Redis stream, RabbitMQ queue, NATS subject or Kafka topic; the dead
    letters go to ``stream + ".dead"`` on the same broker. ``group`` is the consumer group
    (Redis, Kafka) or durable consumer name (NATS). ``claim_idle_ms``: how long a message
    may sit unacknowledged with a consumer before another takes it over (Redis
    XAUTOCLAIM; NATS ack wait).
    """

    url: str
    stream: str
    group: str = "crmsync"
    consumer: str = field(default_factory=_default_consumer)
    workspace_id: uuid.UUID | None = None
    name: str = ""
    source_id: uuid.UUID | None = None
    batch_size: int = 500
    claim_idle_ms: int = 30_000
    max_wait_ms: int = 20

    def __post_init__(self) -> None:
        kind_of(self.url)
        if not self.stream:
            raise BadSource("a source needs a stream (queue, subject or topic) name")

    @property
    def kind(self) -> Kind:
        return kind_of(self.url)

    @property
    def label(self) -> str:
        """The metrics label: the source's name, or kind:stream."""
        return self.name or f"{self.kind}:{self.stream}"

    @property
    def dead_letters(self) -> str:
        return f"{self.stream}.dead"
