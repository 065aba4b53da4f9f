"""The docs point only at what exists: files, links between pages, and crmsync names."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `crmsync.db` is the demo's SQLite file, not a module
NOT_NAMES = frozenset({"crmsync.db"})
PATH = re.compile(r"`((?:crmsync|bench|tests|docs|requirements|\.ci)/[A-Za-z0-9_./-]*)`")
NAME = re.compile(r"`(crmsync(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
LINK = re.compile(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)")


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: ModuleType | Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_points_only_at_what_exists(page: Path) -> None:
    text = page.read_text()
    missing = [p for p in PATH.findall(text) if not (ROOT / p.rstrip("/")).exists()]
    missing += [f"link {t}" for t in LINK.findall(text) if not (page.parent / t).exists()]
    missing += [n for n in NAME.findall(text) if n not in NOT_NAMES and not _resolves(n)]
    assert missing == [], f"{page.name} names what does not exist"


def test_the_checks_catch_a_missing_name() -> None:
    assert _resolves("crmsync.dedup.engine.find_duplicates")
    assert not _resolves("crmsync.quality.dedup.find_duplicates")
    assert not _resolves("crmsync.dedup.engine.no_such_thing")
