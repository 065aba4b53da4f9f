"""Shared helpers of the dedup tests: compare two contacts through the public API."""

from __future__ import annotations

from typing import Any

from crmsync.dedup.engine import DedupSettings, DuplicateCheck, DuplicateIndex


def check_pair(
    existing: dict[str, Any], candidate: dict[str, Any], settings: DedupSettings | None = None
) -> DuplicateCheck:
    """Index `existing` alone and check `candidate` against it."""
    index = DuplicateIndex.build([{"id": "existing", **existing}], settings)
    return index.check({"id": "candidate", **candidate})
