"""One event router: features subscribe to app events by type pattern.

``POST /api/v1/events`` stores an event and hands it to ``dispatch`` in the same
transaction, so what a subscriber writes (an activity, an enrolment, its sync jobs)
commits with the event or not at all. A replayed request (same idempotency key) is not
dispatched again. Subscribers take the caller's session and never commit.

Subscribers are data, like the connector registry: ``SUBSCRIBERS`` names each by
``"module:function"`` and is imported on first use, so this module depends on no
feature; ``subscribe`` adds one at run time (tests, plug-ins). Patterns are exact types
(``loan.milestone_updated``), prefixes (``loan.*``) or ``*``.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy.orm import Session

from crmsync.store.models import Event

__all__ = ["SUBSCRIBERS", "EventRouter", "Subscriber", "Wants", "router"]

Subscriber = Callable[[Session, Event], None]

MAX_TYPES = 10_000  # event types whose subscribers are remembered

# (pattern, "module:function", optionally its filter "module:function"), called in this
# order. A filter ``wants(session, workspace_id, type, data)`` is a cheap test that is
# False only when the subscriber would do nothing with the event: a batch from the bus
# then never loads the events nobody wants.
SUBSCRIBERS: tuple[tuple[str, ...], ...] = (
    ("*", "crmsync.marketing.on_event:handle", "crmsync.marketing.on_event:wants"),
    *(
        (touch, "crmsync.marketing.attribution.touchpoints:on_event")
        for touch in ("post.engaged", "ad.clicked", "page.visited", "message.sent")
    ),
    ("*", "crmsync.automation.on_event:handle", "crmsync.automation.on_event:wants"),
    *(
        (kind, "crmsync.outbound.relay:on_event")
        for kind in ("engagement.high", "engagement.cooled")
    ),
)

Wants = Callable[[Session, uuid.UUID, str, Mapping[str, Any]], bool]
_Entry = tuple[str, Subscriber, Wants | None]


class EventRouter:
    """Pattern -> subscribers, resolved once."""

    def __init__(self, named: tuple[tuple[str, ...], ...] = SUBSCRIBERS) -> None:
        self._named = named
        self._resolved: list[_Entry] | None = None
        self._extra: list[_Entry] = []
        self._lock = threading.Lock()
        self._by_type: dict[str, list[tuple[Subscriber, Wants | None]]] = {}

    def subscribe(self, pattern: str, subscriber: Subscriber, wants: Wants | None = None) -> None:
        with self._lock:
            self._extra.append((pattern, subscriber, wants))
            self._by_type = {}

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._extra = [e for e in self._extra if e[1] is not subscriber]
            self._by_type = {}

    def _entries(self, event_type: str) -> list[tuple[Subscriber, Wants | None]]:
        found = self._by_type.get(event_type)  # matched once per type, not per event
        if found is not None:
            return found
        with self._lock:
            if self._resolved is None:
                self._resolved = [
                    (p, _load(target), _load(rest[0]) if rest else None)
                    for p, target, *rest in self._named
                ]
            every = [*self._resolved, *self._extra]
            found = [(s, w) for pattern, s, w in every if fnmatchcase(event_type, pattern)]
            if len(self._by_type) < MAX_TYPES:
                self._by_type[event_type] = found
        return found

    def subscribers(self, event_type: str) -> list[Subscriber]:
        return [s for s, _ in self._entries(event_type)]

    def wanted(
        self, session: Session, workspace_id: uuid.UUID, event_type: str, data: Mapping[str, Any]
    ) -> list[Subscriber]:
        """The subscribers of the type whose filter (if any) takes this event."""
        return [
            s
            for s, wants in self._entries(event_type)
            if wants is None or wants(session, workspace_id, event_type, data)
        ]

    def dispatch(self, session: Session, event: Event) -> None:
        """Hand ``event`` to each subscriber of its type, in the caller's transaction."""
        for subscriber in self.subscribers(event.type):
            subscriber(session, event)


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


router = EventRouter()
