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
from collections.abc import Callable
from fnmatch import fnmatchcase

from sqlalchemy.orm import Session

from crmsync.store.models import Event

__all__ = ["SUBSCRIBERS", "EventRouter", "Subscriber", "router"]

Subscriber = Callable[[Session, Event], None]

# (pattern, "module:function"), called in this order
SUBSCRIBERS: tuple[tuple[str, str], ...] = (
    ("*", "crmsync.marketing.on_event:handle"),
    *(
        (touch, "crmsync.marketing.attribution.touchpoints:on_event")
        for touch in ("post.engaged", "ad.clicked", "page.visited", "message.sent")
    ),
)


class EventRouter:
    """Pattern -> subscribers, resolved once."""

    def __init__(self, named: tuple[tuple[str, str], ...] = SUBSCRIBERS) -> None:
        self._named = named
        self._resolved: list[tuple[str, Subscriber]] | None = None
        self._extra: list[tuple[str, Subscriber]] = []
        self._lock = threading.Lock()

    def subscribe(self, pattern: str, subscriber: Subscriber) -> None:
        with self._lock:
            self._extra.append((pattern, subscriber))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._extra = [(p, s) for p, s in self._extra if s is not subscriber]

    def subscribers(self, event_type: str) -> list[Subscriber]:
        with self._lock:
            if self._resolved is None:
                self._resolved = [(p, _load(target)) for p, target in self._named]
            every = [*self._resolved, *self._extra]
        return [s for pattern, s in every if fnmatchcase(event_type, pattern)]

    def dispatch(self, session: Session, event: Event) -> None:
        """Hand ``event`` to each subscriber of its type, in the caller's transaction."""
        for subscriber in self.subscribers(event.type):
            subscriber(session, event)


def _load(target: str) -> Subscriber:
    module_name, _, attribute = target.partition(":")
    found: Subscriber = getattr(importlib.import_module(module_name), attribute)
    return found


router = EventRouter()
