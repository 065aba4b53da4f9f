"""The incremental cursor of ``Connector.changes``: one protocol and one text form.

Each connector keeps its own position data (a watermark and lag window for Salesforce
and HubSpot, keyset lanes at one-second resolution for Pipedrive and Total Expert, a
page token and boundary ids for REST CRMs), because the providers' change feeds differ.
What they share is here: a cursor is a frozen value that ``encode``s to opaque compact
JSON for the sync state and ``decode``s back, an empty text starts from the beginning,
and a text that is not such a cursor is a ``ConfigError``, never a crash mid-poll.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, Self

from crmsync.connectors.errors import ConfigError

__all__ = ["Cursor", "JsonCursor", "dump", "load"]


class Cursor(Protocol):
    """What the sync engine stores between polls: ``encode()`` text, read back by the
    connector's ``decode``."""

    def encode(self) -> str: ...


def dump(raw: Mapping[str, Any]) -> str:
    """The text form of a cursor's plain values (compact, keys sorted)."""
    return json.dumps(raw, separators=(",", ":"), sort_keys=True)


def load(text: str | None, kind: str = "change cursor") -> dict[str, Any]:
    """The plain values of a cursor's text (``{}`` for none); ``ConfigError`` otherwise."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError(f"not a {kind}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"not a {kind}")
    return raw


class JsonCursor:
    """Base of the connectors' cursors: subclasses say ``to_json`` and ``from_json``
    (which reads ``{}`` as the start), and share ``encode`` and ``decode``."""

    __slots__ = ()
    KIND: ClassVar[str] = "change cursor"

    def to_json(self) -> Mapping[str, Any]:
        """The cursor's plain values."""
        raise NotImplementedError

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        """Inverse of ``to_json``; ``{}`` is the start."""
        raise NotImplementedError

    def encode(self) -> str:
        """Opaque text for the sync state."""
        return dump(self.to_json())

    @classmethod
    def decode(cls, text: str | None) -> Self:
        """Inverse of ``encode``; ``None`` or ``""`` starts from the beginning."""
        raw = load(text, cls.KIND)
        try:
            return cls.from_json(raw)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            raise ConfigError(f"not a {cls.KIND}") from None
