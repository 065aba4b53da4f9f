"""How a listing continues, for each pagination style a definition can name."""

from __future__ import annotations

from typing import Any

from crmsync.connectors.rest.definition import Pagination
from crmsync.connectors.rest.wire import dig

__all__ = ["next_page", "page_params"]


def page_params(pagination: Pagination, page: str | None) -> tuple[dict[str, str], str | None]:
    """Query parameters of the page at ``page`` (``None``: the first), or the link to get."""
    if pagination.style == "next_link" and page is not None:
        return {}, page
    query = {pagination.limit_param: str(pagination.page_size)}
    if pagination.style == "page":
        query[str(pagination.param)] = page or str(pagination.first_page)
    elif pagination.style == "offset":
        query[str(pagination.param)] = page or "0"
    elif pagination.style == "cursor" and page is not None:
        query[str(pagination.param)] = page
    return query, None


def next_page(pagination: Pagination, page: str | None, body: Any, count: int) -> str | None:
    """The token of the page after this one (``None`` at the end of the listing)."""
    if pagination.style in ("cursor", "next_link"):
        found = dig(body, str(pagination.next))
        return str(found) if found not in (None, "") else None
    if count < pagination.page_size:
        return None  # a short page is the last one
    if pagination.style == "page":
        return str(int(page or pagination.first_page) + 1)
    return str(int(page or 0) + count)
