"""Fast JSON answers (orjson) for routers that build dicts themselves."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import quote

import orjson
from fastapi.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return _default(value)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            # An integer beyond 64 bits stored before the input limits existed: the slow
            # writer still answers, so the record can be read and repaired.
            return json.dumps(content, default=_plain, allow_nan=False).encode()


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download named ``filename``, whatever its characters.

    Header values are Latin-1, so a name such as ``лиды.csv`` goes in ``filename*``
    (RFC 6266, UTF-8 percent-encoded) with an ASCII stand-in in ``filename``.
    """
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
