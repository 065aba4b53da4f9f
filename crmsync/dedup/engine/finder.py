"""find_duplicates: every cluster of duplicate contacts in a list, each explained."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from crmsync.dedup.engine.blocking import candidate_pairs
from crmsync.dedup.engine.clusters import cluster_links, components
from crmsync.dedup.engine.compare import compare
from crmsync.dedup.engine.encoded import ALL_TEXT, Encoded, decode, encode
from crmsync.dedup.engine.explain import PairExplanation, explain_pairs
from crmsync.dedup.engine.judging import judge
from crmsync.dedup.engine.prepared import Records, prepare
from crmsync.dedup.engine.rules import decide
from crmsync.dedup.engine.settings import DedupSettings


@dataclass(frozen=True)
class Cluster:
    """Records taken for one person, the links that join them, and the weakest link's score."""

    ids: tuple[str, ...]
    score: float
    links: tuple[PairExplanation, ...]

    @property
    def explanation(self) -> str:
        lines = [f"{len(self.ids)} records, weakest link {self.score:.3f}"]
        lines += [f"{link.left_id} ~ {link.right_id}: {link.text()}" for link in self.links]
        return "\n".join(lines)


class DuplicateClusters(Sequence[Cluster]):
    """The clusters found, built (and explained) on access so large runs stay cheap."""

    def __init__(
        self,
        enc: Encoded,
        groups: list[list[int]],
        links: dict[int, list[tuple[int, int]]],
        settings: DedupSettings,
        possible: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self._enc = enc
        self._groups = groups
        self._links = links
        self._settings = settings
        empty = np.empty(0, dtype=np.int64)
        self._possible = possible if possible is not None else (empty, empty, empty.astype(float))

    def __len__(self) -> int:
        return len(self._groups)

    @overload
    def __getitem__(self, index: int) -> Cluster: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Cluster]: ...
    def __getitem__(self, index: int | slice) -> Cluster | Sequence[Cluster]:
        if isinstance(index, slice):
            return [self._cluster(i) for i in range(*index.indices(len(self)))]
        return self._cluster(range(len(self))[index])

    def __iter__(self) -> Iterator[Cluster]:
        return (self._cluster(i) for i in range(len(self)))

    def id_groups(self) -> list[list[str]]:
        """Just the ids of every cluster, without explanations."""
        ids = self._enc.values["id"][self._enc.codes["id"]]
        return [[str(ids[r]) for r in group] for group in self._groups]

    def possible_pairs(self) -> list[tuple[str, str, float]]:
        """Pairs likely enough to ask a person about (not duplicates, and not in one
        cluster): (id, id, score), the smaller id first, ordered."""
        left, right, score = self._possible
        in_group = {row: n for n, group in enumerate(self._groups) for row in group}
        ids = self._enc.values["id"][self._enc.codes["id"]]
        out = []
        for a, b, s in zip(left.tolist(), right.tolist(), score.tolist(), strict=True):
            group = in_group.get(a)
            if group is not None and group == in_group.get(b):
                continue
            x, y = sorted((str(ids[a]), str(ids[b])))
            out.append((x, y, round(float(s), 4)))
        return sorted(out)

    def _cluster(self, i: int) -> Cluster:
        pairs = self._links[self._groups[i][0]]
        left = decode(self._enc, np.array([a for a, _ in pairs]))
        right = decode(self._enc, np.array([b for _, b in pairs]))
        decisions = decide(compare(left, right), self._settings)
        links = tuple(explain_pairs(decisions, range(len(pairs)), left, right))
        return Cluster(
            ids=tuple(str(v) for v in decode(self._enc, np.array(self._groups[i]))["id"]),
            score=min(link.score for link in links),
            links=links,
        )


def _unscored_inner_pairs(
    left: np.ndarray, right: np.ndarray, matched: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs inside a linked group of 3+ that blocking never compared.

    The chaining guard can only refuse a chain through a pair it knows conflicts, and
    the two ends of a chain often share no blocking key; so they are compared here.
    """
    component = components(left[matched], right[matched])
    members: dict[int, list[int]] = defaultdict(list)
    for row, root in component.items():
        members[root].append(row)
    pairs = [
        (a, b)
        for rows in members.values()
        if len(rows) > 2
        for a, b in itertools.combinations(sorted(rows), 2)
    ]
    if not pairs:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    out = np.array(pairs, dtype=np.int64)
    # candidate pairs hold the smaller row first, as combinations of sorted rows do
    unscored = ~np.isin((out[:, 0] << 32) | out[:, 1], (left << 32) | right)
    return out[unscored, 0], out[unscored, 1]


def find_duplicates(
    records: Records,
    settings: DedupSettings | None = None,
) -> DuplicateClusters:
    """Clusters of duplicates among `records` (dicts or a frame with an `id` column)."""
    settings = settings or DedupSettings()
    frame = prepare(records, settings.region)
    left, right = candidate_pairs(frame, settings.window)
    enc = encode(frame, ALL_TEXT)
    judged = judge(enc, left, right, settings)
    left, right, matched, score = judged.left, judged.right, judged.matched, judged.score
    conflict = judged.conflict
    inner_left, inner_right = _unscored_inner_pairs(left, right, matched)
    inner_conflict = np.zeros(len(inner_left), dtype=bool)
    if len(inner_left):
        inner = compare(decode(enc, inner_left), decode(enc, inner_right))
        inner_conflict = decide(inner, settings).conflict
    groups, kept = cluster_links(
        left[matched],
        right[matched],
        score[matched],
        np.concatenate([left[conflict], inner_left[inner_conflict]]),
        np.concatenate([right[conflict], inner_right[inner_conflict]]),
        settings.max_cluster_size,
    )
    root_of = {row: group[0] for group in groups for row in group}
    links: dict[int, list[tuple[int, int]]] = {}
    for a, b in zip(left[matched][kept].tolist(), right[matched][kept].tolist(), strict=True):
        links.setdefault(root_of[a], []).append((a, b))
    possible = judged.possible
    return DuplicateClusters(
        enc, groups, links, settings, (left[possible], right[possible], score[possible])
    )
