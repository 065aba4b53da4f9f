"""Fast JSON answers (orjson) for routers that build dicts themselves."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import orjson
from fastapi.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download named ``filename``, whatever its characters.

    Header values are Latin-1, so a name such as ``лиды.csv`` goes in ``filename*``
    (RFC 6266, UTF-8 percent-encoded) with an ASCII stand-in in ``filename``.
    """
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
