from __future__ import annotations

import numpy as np

from crmsync.dedup.engine import DedupSettings, find_duplicates
from crmsync.dedup.engine.clusters import cluster_links


def links(*pairs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])


NO_CONFLICT = (np.array([], dtype=np.int64), np.array([], dtype=np.int64))


def test_transitive_closure_without_conflicts() -> None:
    left, right = links((0, 1), (1, 2), (5, 6))
    groups, kept = cluster_links(left, right, np.ones(3), *NO_CONFLICT, max_size=50)
    assert groups == [[0, 1, 2], [5, 6]]
    assert kept.all()


def test_guard_refuses_a_chain_through_a_conflict() -> None:
    # 0~1 strongly, 1~2 weakly, but 0 and 2 were compared and conflict
    left, right = links((0, 1), (1, 2))
    score = np.array([0.99, 0.91])
    groups, kept = cluster_links(left, right, score, *links((0, 2)), max_size=50)
    assert groups == [[0, 1]]
    assert kept.tolist() == [True, False]


def test_guard_caps_cluster_size() -> None:
    left, right = links((0, 1), (1, 2), (2, 3))
    groups, _ = cluster_links(left, right, np.array([0.9, 0.99, 0.95]), *NO_CONFLICT, max_size=2)
    assert all(len(g) <= 2 for g in groups)
    assert [1, 2] in groups  # the strongest link wins


def test_find_duplicates_does_not_chain_unrelated_people() -> None:
    # b (no given name) shares an email with a and a phone with c; a and c share no
    # blocking key and are clearly two people
    records = [
        {
            "id": "a",
            "first_name": "John",
            "last_name": "Smith",
            "email": "js@acme.com",
            "dob": "1980-01-01",
            "city": "Boston",
        },
        {"id": "b", "last_name": "Smith", "email": "js@acme.com", "phone": "(415) 555-0134"},
        {
            "id": "c",
            "first_name": "Mary",
            "last_name": "Jones",
            "phone": "(415) 555-0134",
            "dob": "1951-07-30",
            "city": "Seattle",
            "email": "mary@initech.com",
        },
    ]
    clusters = [sorted(c.ids) for c in find_duplicates(records)]
    assert ["a", "b", "c"] not in clusters
    assert ["a", "b"] in clusters


def test_chain_of_one_person_is_kept_whole() -> None:
    records = [
        {"id": "a", "first_name": "John", "last_name": "Smith", "email": "js@acme.com"},
        {
            "id": "b",
            "first_name": "Johnny",
            "last_name": "Smith",
            "email": "js@acme.com",
            "phone": "(415) 555-0134",
        },
        {"id": "c", "first_name": "Jon", "last_name": "Smith", "phone": "(415) 555-0134"},
    ]
    assert [sorted(c.ids) for c in find_duplicates(records)] == [["a", "b", "c"]]


def test_find_duplicates_clusters_and_explains() -> None:
    records = [
        {
            "id": "1",
            "first_name": "Robert",
            "last_name": "Alen",
            "dob": "1971-06-24",
            "email": "robert255@smith.net",
        },
        {
            "id": "2",
            "first_name": "Rob",
            "last_name": "Allen",
            "dob": "1971-06-24",
            "email": "roberta25@smith.net",
            "city": "London",
        },
        {
            "id": "3",
            "first_name": "Robert",
            "last_name": "Allen",
            "dob": "1971-05-24",
            "email": "roberta25@smith.net",
        },
        {"id": "4", "first_name": "Grace", "last_name": "Kelly", "dob": "1991-04-26"},
    ]
    clusters = find_duplicates(records)
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster.ids == ("1", "2", "3")
    assert 0.9 <= cluster.score <= 1.0
    assert len(cluster.links) == 2  # a spanning set: n - 1 links
    for link in cluster.links:
        assert link.rule is not None
        assert {f.field for f in link.fields} >= {"first", "last", "email", "dob"}
    assert "roberta25@smith.net" in cluster.explanation
    assert clusters.id_groups() == [["1", "2", "3"]]


def test_no_records_no_clusters() -> None:
    assert len(find_duplicates([])) == 0
    assert len(find_duplicates([{"id": "x", "first_name": "Solo"}], DedupSettings())) == 0
