"""find_duplicates: every cluster of duplicate contacts in a list, each explained."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import polars as pl

from crmsync.quality.dedup.blocking import candidate_pairs
from crmsync.quality.dedup.clusters import cluster_links
from crmsync.quality.dedup.compare import compare, gather
from crmsync.quality.dedup.explain import PairExplanation, explain_pair
from crmsync.quality.dedup.prepared import columns, prepare
from crmsync.quality.dedup.rules import decide
from crmsync.quality.dedup.settings import DedupSettings

# pairs compared at once: bounds memory on large lists
CHUNK = 1_000_000


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
        cols: dict[str, np.ndarray],
        groups: list[list[int]],
        links: dict[int, list[tuple[int, int]]],
        settings: DedupSettings,
    ) -> None:
        self._cols = cols
        self._groups = groups
        self._links = links
        self._settings = settings

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
        ids = self._cols["id"]
        return [[str(ids[r]) for r in group] for group in self._groups]

    def _cluster(self, i: int) -> Cluster:
        pairs = self._links[self._groups[i][0]]
        left = gather(self._cols, np.array([a for a, _ in pairs]))
        right = gather(self._cols, np.array([b for _, b in pairs]))
        decisions = decide(compare(left, right), self._settings)
        links = tuple(explain_pair(decisions, k, left, right) for k in range(len(pairs)))
        return Cluster(
            ids=tuple(str(self._cols["id"][r]) for r in self._groups[i]),
            score=min(link.score for link in links),
            links=links,
        )


def _score_pairs(
    cols: dict[str, np.ndarray], left: np.ndarray, right: np.ndarray, settings: DedupSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: matched?, score, and conflict?, compared chunk by chunk."""
    matched = np.zeros(len(left), dtype=bool)
    conflict = np.zeros(len(left), dtype=bool)
    score = np.zeros(len(left))
    for start in range(0, len(left), CHUNK):
        part = slice(start, start + CHUNK)
        decisions = decide(compare(gather(cols, left[part]), gather(cols, right[part])), settings)
        matched[part] = decisions.is_match
        conflict[part] = decisions.conflict
        score[part] = decisions.score
    return matched, score, conflict


def find_duplicates(
    records: Iterable[Mapping[str, Any]] | pl.DataFrame,
    settings: DedupSettings | None = None,
) -> DuplicateClusters:
    """Clusters of duplicates among `records` (dicts or a frame with an `id` column)."""
    settings = settings or DedupSettings()
    frame = prepare(records, settings.region)
    left, right = candidate_pairs(frame, settings.window)
    cols = columns(frame)
    matched, score, conflict = _score_pairs(cols, left, right, settings)
    groups, kept = cluster_links(
        left[matched],
        right[matched],
        score[matched],
        left[conflict],
        right[conflict],
        settings.max_cluster_size,
    )
    root_of = {row: group[0] for group in groups for row in group}
    links: dict[int, list[tuple[int, int]]] = {}
    for a, b in zip(left[matched][kept].tolist(), right[matched][kept].tolist(), strict=True):
        links.setdefault(root_of[a], []).append((a, b))
    return DuplicateClusters(cols, groups, links, settings)
