"""Quality on labelled data: the engine must stay above its precision/recall targets."""

from __future__ import annotations

import csv
import itertools
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from crmsync.quality.dedup import find_duplicates

REPO = Path(__file__).resolve().parents[3]


def _fake_1000() -> Path | None:
    roots = [REPO]
    common = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if common:
        roots.append(Path(common).parent)
    for root in roots:
        path = root.parent / "shared" / "data" / "fake_1000.csv"
        if path.exists():
            return path
    return None


def pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for g in groups for p in itertools.combinations(g, 2)}  # type: ignore[misc]


def test_fake_1000_precision_and_f1() -> None:
    path = _fake_1000()
    if path is None:
        pytest.skip("../shared/data/fake_1000.csv not found beside the repository")
    with path.open(newline="") as f:
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
    people: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        people[r["cluster"]].append(r["unique_id"])
    truth = pairs(list(people.values()))
    found = pairs(find_duplicates(records).id_groups())
    hits = len(found & truth)
    precision, recall = hits / len(found), hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall)
    assert precision >= 0.99
    assert f1 >= 0.85
