"""Query locators: the pages of a query result behind ``nextRecordsUrl``.

A query's rows are kept (as Salesforce keeps a server-side cursor) and handed out in
batches; ``nextRecordsUrl`` is ``/services/data/vXX.X/query/<locator>-<offset>``. As
in Salesforce, only the most recent cursors stay open (10 per user by default): opening
one more releases the oldest, and an unknown or released one answers
INVALID_QUERY_LOCATOR.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from crmsync.sandbox.salesforce.errors import ApiError
from crmsync.sandbox.salesforce.ids import IdFactory

DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_BATCH = 2000
_BATCH_OPTION = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def batch_size(header: str | None, default: int = DEFAULT_BATCH) -> int:
    """The batch size asked by ``Sforce-Query-Options: batchSize=N`` (200..2000)."""
    if header:
        match = _BATCH_OPTION.search(header)
        if match:
            return max(MIN_BATCH, min(MAX_BATCH, int(match.group(1))))
    return default


class Cursors:
    """Open query locators, the oldest dropped beyond `keep`."""

    def __init__(self, keep: int = 10) -> None:
        self.keep = keep
        self._ids = IdFactory()
        self._open: OrderedDict[str, tuple[list[dict[str, Any]], int]] = OrderedDict()
        self._lock = threading.Lock()

    def first_page(
        self, total: int, rows: list[dict[str, Any]], batch: int, path: str
    ) -> dict[str, Any]:
        """The answer of a query; opens a locator when more rows remain."""
        if len(rows) <= batch:
            return {"totalSize": total, "done": True, "records": rows}
        locator = self._ids.new("01g")
        with self._lock:
            self._open[locator] = (rows, batch)
            while len(self._open) > self.keep:
                self._open.popitem(last=False)
        return self._page(total, rows, batch, 0, locator, path)

    def next_page(self, locator_offset: str, path: str) -> dict[str, Any]:
        """The answer for a ``nextRecordsUrl``."""
        locator, _, offset_text = locator_offset.rpartition("-")
        with self._lock:
            found = self._open.get(locator)
        if found is None or not offset_text.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, batch = found
        offset = int(offset_text)
        if offset + batch >= len(rows):
            with self._lock:
                self._open.pop(locator, None)
        return self._page(len(rows), rows, batch, offset, locator, path)

    def clear(self) -> None:
        with self._lock:
            self._open.clear()

    @staticmethod
    def _page(
        total: int,
        rows: list[dict[str, Any]],
        batch: int,
        offset: int,
        locator: str,
        path: str,
    ) -> dict[str, Any]:
        end = offset + batch
        page: dict[str, Any] = {"totalSize": total, "done": end >= len(rows)}
        if end < len(rows):
            page["nextRecordsUrl"] = f"{path}/{locator}-{end}"
        page["records"] = rows[offset:end]
        return page
