"""The labelled fake_1000 data set: ../shared/data/fake_1000.csv beside the repository.

Columns unique_id, first_name, surname, dob, city, email, cluster (same cluster, same
person). Used by bench/dedup.py and by the dedup quality test.
"""

from __future__ import annotations

import csv
import itertools
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def path() -> Path:
    """Where the file is: beside this checkout, or beside the main one of a worktree."""
    roots = [REPO]
    common = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if common:
        roots.append(Path(common).parent)
    paths = [root.parent / "shared" / "data" / "fake_1000.csv" for root in roots]
    return next((p for p in paths if p.exists()), paths[0])


def load() -> tuple[list[dict[str, Any]], set[Pair], list[dict[str, str]]] | None:
    """Contacts, true pairs and raw rows; None when the file is absent."""
    source = path()
    if not source.exists():
        return None
    with source.open(newline="") as f:
        rows = list(csv.DictReader(f))
    records = [
        {
            "id": r["unique_id"],
            "first_name": r["first_name"],
            "last_name": r["surname"],
            "dob": r["dob"],
            "city": r["city"],
            "email": r["email"],
        }
        for r in rows
    ]
    members: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        members[r["cluster"]].append(r["unique_id"])
    truth = {pair(a, b) for g in members.values() for a, b in itertools.combinations(g, 2)}
    return records, truth, rows


def pairwise(predicted: set[Pair], truth: set[Pair]) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted pairs."""
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1
