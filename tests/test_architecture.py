"""The layers of docs/architecture.md, enforced: a package imports only from layers below
its own, plus the sideways imports listed here. Known breaches are listed too, and the
list only shrinks: a breach that is gone must leave it, a new one fails."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import crmsync

ROOT = Path(crmsync.__file__).parent

# bottom to top; a module at the top of crmsync/ (config.py) counts as a package
LAYERS: list[set[str]] = [
    {"config", "locations", "logging", "metrics", "jsonlimits", "errors", "fields",
     "fingerprint", "sandbox"},
    {"store"},
    {"auth", "workspaces", "events", "quality", "mapping"},
    {"connectors", "records"},
    {"integrations", "outbound", "sync", "dedup", "imports", "marketing", "alerts",
     "automation", "bus", "owners"},
    {"api", "background", "cli", "cli_group", "demo", "demo_crms", "web"},
]  # fmt: skip

# imports within one layer that the design intends (no cycles among them)
SIDEWAYS: set[tuple[str, str]] = {
    ("mapping", "quality"),
    ("alerts", "outbound"),
    ("automation", "alerts"),
    ("automation", "marketing"),
    ("automation", "outbound"),
    ("dedup", "sync"),
    ("imports", "dedup"),
    ("imports", "integrations"),
    ("imports", "outbound"),  # a finished import emits import.completed
    ("imports", "sync"),
    ("marketing", "sync"),
    ("sync", "integrations"),
    ("sync", "outbound"),
    ("sync", "owners"),  # a sync target maps owner fields through the owner table
    ("api", "background"),
    ("api", "web"),  # the app factory mounts the web app at /ui
    ("cli", "api"),
    ("cli", "background"),
    ("cli", "cli_group"),
    ("cli", "demo"),
    ("demo", "api"),
    ("demo", "demo_crms"),
}

# Breaches of the layers that exist today, each a debt to pay (issue #18). Only shrinks.
DEBTS: set[tuple[str, str]] = {
    ("config", "locations"),  # foundation modules, same layer: harmless but listed
    ("records", "outbound"),  # a record write enqueues outbound events and sync jobs
    ("records", "sync"),
    ("integrations", "sync"),  # with sync -> integrations: a cycle
    ("outbound", "integrations"),
    ("sync", "marketing"),  # with marketing -> sync: a cycle
}


def package_imports() -> dict[str, set[str]]:
    """crmsync package -> the crmsync packages its modules import."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        own = path.relative_to(ROOT).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "crmsync":
                    names = [f"crmsync.{alias.name}" for alias in node.names]
                else:
                    names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "crmsync" and len(parts) > 1 and parts[1] != own:
                    found[own].add(parts[1])
    return found


def _layer(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def test_every_package_has_a_layer() -> None:
    packages = {p.name.removesuffix(".py") for p in ROOT.iterdir() if p.name != "__init__.py"}
    packages = {p for p in packages if not p.startswith("__") and p != "py.typed"}
    placed = set().union(*LAYERS)
    assert packages - placed == set(), "place each new package in a layer of LAYERS"


def test_imports_follow_the_layers() -> None:
    breaches = {
        (src, dst)
        for src, targets in package_imports().items()
        for dst in targets
        if _layer(dst) > _layer(src) or (_layer(dst) == _layer(src) and (src, dst) not in SIDEWAYS)
    }
    assert breaches - DEBTS == set(), "a new import against the layers (docs/architecture.md)"
    assert DEBTS - breaches == set(), "a debt was paid: remove it from DEBTS"


def test_sideways_imports_have_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in SIDEWAYS:
        graph[src].add(dst)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    assert [p for p in list(graph) if reaches(p, p, set())] == []
