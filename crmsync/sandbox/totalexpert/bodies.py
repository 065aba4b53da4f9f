"""Request bodies as Total Expert reads them: JSON only (415 otherwise), 400 when malformed."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from crmsync.sandbox.totalexpert.errors import TotalExpertError


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        raise TotalExpertError(415, "Unsupported Media Type: send application/json")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise TotalExpertError(400, "Malformed JSON") from None


def location(request: Request, path: str) -> str:
    """The absolute URL of a record, as `created` and `duplicate` give it."""
    return str(request.base_url).rstrip("/") + path
