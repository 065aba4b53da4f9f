"""Opaque keyset cursors over (updated_at, id)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from crmsync.records.errors import RecordInvalid


@dataclass(frozen=True)
class Cursor:
    updated_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.updated_at.astimezone(UTC).isoformat()}|{self.id.hex}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at, _, ident = raw.partition("|")
            stamp = datetime.fromisoformat(at)
            if stamp.tzinfo is None:
                raise ValueError("naive")
            stamp.astimezone(UTC)  # a crafted time outside UTC's range cannot be compared
            return cls(stamp, uuid.UUID(hex=ident))
        except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
            raise RecordInvalid(
                "cursor is not one this API returned; pass next_cursor unchanged"
            ) from None
