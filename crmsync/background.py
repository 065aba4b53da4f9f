"""What a worker process runs beside the sync worker, in ``crmsync worker`` and in
``crmsync serve``'s in-process worker: event-bus sources and publishing, outbound
webhooks to the host app, alert checks and automation rules. Each is a thread with its
own loop; they start after the sync worker and stop before it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts.runner import AlertMonitor
from crmsync.automation.runner import RulesRunner
from crmsync.bus.runner import BusRunner
from crmsync.config import Settings
from crmsync.outbound.webhooks.runner import deliverer_for


class Part(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class Background:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.parts: list[Part] = [
            BusRunner(sessions, settings.bus_publish_url),  # configured sources, publishing
            deliverer_for(sessions, settings),  # outbound webhooks
            AlertMonitor(sessions, settings),
            RulesRunner(sessions),
        ]

    def start(self) -> None:
        for part in self.parts:
            part.start()

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.stop()
