"""check_many (and duplicate_ids) answer exactly what check() answers, one at a time."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

from crmsync.dedup.engine import DedupSettings, DuplicateIndex
from crmsync.dedup.engine.blocking import PASSES, key_strings
from crmsync.dedup.engine.postings import Postings, key_hashes
from crmsync.dedup.engine.prepared import prepare
from tests.dedup.engine.test_dedup_prepare import TRICKY

# the synthetic contacts are shared with the speed benchmark
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from gen_contacts import contacts, noisy_copy


def _candidates(indexed: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    rng = random.Random(5)
    strangers = list(contacts(count, seed=123))
    out: list[dict[str, Any]] = []
    for n in range(count):
        kind = n % 4
        if kind == 0:  # a noisy copy of an indexed person
            out.append({**noisy_copy(rng, rng.choice(indexed)), "id": f"new{n}"})
        elif kind == 1:  # an indexed record itself: never its own duplicate
            out.append(dict(rng.choice(indexed)))
        else:
            out.append({**strangers[n], "id": f"new{n}"})
    return out + [{**r, "id": f"tricky{r['id']}"} for r in TRICKY]


def _assert_same_answers(index: DuplicateIndex, candidates: list[dict[str, Any]]) -> None:
    bulk = index.check_many(candidates)
    assert len(bulk) == len(candidates)
    for candidate, answer in zip(candidates, bulk, strict=True):
        assert answer == index.check(candidate), candidate["id"]
    expected = [a.duplicate_of if a.is_duplicate else None for a in bulk]
    assert index.duplicate_ids(candidates) == expected


# window 2 makes most name blocks wider than the window: the binary search runs
@pytest.mark.parametrize("window", [2, 10])
def test_check_many_matches_check_on_a_built_index(window: int) -> None:
    records = list(contacts(3000))
    index = DuplicateIndex.build(records, DedupSettings(window=window))
    candidates = _candidates(records, 400)
    _assert_same_answers(index, candidates)
    assert sum(a.is_duplicate for a in index.check_many(candidates)) > 50


def test_check_many_matches_check_with_additions_and_removals() -> None:
    records = list(contacts(3000))
    index = DuplicateIndex.build(records[:2000], DedupSettings(window=3))
    index.add_many(records[2000:2600])  # waits in the side table
    for record in records[2000:2600:7] + records[:2000:13]:
        index.remove(record["id"])
    index.add_many([{**records[5], "email": "moved@elsewhere.example"}])  # replaces c5
    assert len(index) == 2600 - len(records[2000:2600:7]) - len(records[:2000:13])
    _assert_same_answers(index, _candidates(records[:2600], 300))


def test_check_many_edge_cases() -> None:
    empty = DuplicateIndex()
    assert empty.check_many([]) == []
    assert empty.check_many([{"id": "x", "email": "a@b.com"}]) == [
        empty.check({"id": "x", "email": "a@b.com"})
    ]
    index = DuplicateIndex.build(TRICKY)
    _assert_same_answers(index, [{**r, "id": f"n{r['id']}"} for r in TRICKY] + TRICKY)


def test_duplicate_ids_when_candidates_meet_only_strangers() -> None:
    index = DuplicateIndex.build(list(contacts(500)))
    # namesakes of indexed people with nothing else alike: compared, never matched
    strangers = [
        {"id": f"s{n}", "first_name": r["first_name"], "last_name": r["last_name"]}
        for n, r in enumerate(list(contacts(500))[:50])
    ]
    assert index.duplicate_ids(strangers) == [None] * 50
    _assert_same_answers(index, strangers)


def test_add_many_indexes_a_batch_like_single_adds() -> None:
    records = list(contacts(1500))
    one_by_one = DuplicateIndex.build(records[:1000])
    for record in records[1000:]:
        one_by_one.add(record)
    batched = DuplicateIndex.build(records[:1000])
    batched.add_many(records[1000:1200])
    batched.add_many(records[1200:])
    assert len(batched) == len(one_by_one) == 1500
    candidates = _candidates(records, 200)
    assert batched.check_many(candidates) == one_by_one.check_many(candidates)


def test_add_many_keeps_the_last_version_of_an_id_and_compacts() -> None:
    index = DuplicateIndex(compact_at=50)
    people = list(contacts(120))
    index.add_many(people[:40])
    index.add_many([{**people[0], "email": "first@x.example"}, people[0]])
    assert len(index) == 40
    assert index.check({**people[0], "id": "again"}).duplicate_of == people[0]["id"]
    index.add_many(people[40:])  # past compact_at: folded into the base
    assert len(index) == 120
    _assert_same_answers(index, _candidates(people, 60))


@pytest.mark.parametrize("window", [1, 2, 5])
def test_postings_look_up_a_batch_like_one_by_one(window: int) -> None:
    """The bulk binary search lands where `bisect` does, ties and block ends included."""
    indexed = prepare(list(contacts(1000)))
    looked_up = prepare(list(contacts(200, seed=3)) + list(contacts(100)))
    for block in PASSES:
        postings = Postings.of(indexed, block)
        table = key_strings(looked_up, block)
        owner, rows = postings.near_many(key_hashes(table["key"]), table["sort"], window)
        for n, (key, sort) in enumerate(zip(table["key"], table["sort"], strict=True)):
            expected = postings.near(hash(key), sort, window).tolist()
            assert rows[owner == n].tolist() == expected, (block.name, key, sort)
