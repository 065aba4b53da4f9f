"""Quality on labelled data: the engine must stay above its precision/recall targets."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from crmsync.dedup.engine import find_duplicates

# the data set's reader is shared with the benchmark
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
import fake_1000


def test_fake_1000_precision_and_f1() -> None:
    loaded = fake_1000.load()
    if loaded is None:
        pytest.skip("../shared/data/fake_1000.csv not found beside the repository")
    records, truth, _ = loaded
    found = {
        fake_1000.pair(a, b)
        for group in find_duplicates(records).id_groups()
        for a, b in itertools.combinations(group, 2)
    }
    precision, _, f1 = fake_1000.pairwise(found, truth)
    assert precision >= 0.99
    assert f1 >= 0.85
