"""Clusters of duplicate records: transitive closure with a guard against chaining.

A links to B and B to C does not make A and C the same person when A and C were
compared and found to conflict (different given name and birth date, say). Links are
taken strongest first; a link that would put a conflicting pair in one cluster, or
grow a cluster past its size limit, is left out.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class _Forest:
    """Union-find over record rows, with the member list of every root."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}

    def find(self, row: int) -> int:
        parent = self.parent.setdefault(row, row)
        if parent == row:
            self.members.setdefault(row, [row])
            return row
        root = self.find(parent)
        self.parent[row] = root
        return root

    def union(self, small: int, large: int) -> None:
        self.parent[small] = large
        self.members[large].extend(self.members.pop(small))


def cluster_links(
    left: np.ndarray,
    right: np.ndarray,
    score: np.ndarray,
    conflict_left: np.ndarray,
    conflict_right: np.ndarray,
    max_size: int,
) -> tuple[list[list[int]], np.ndarray]:
    """Clusters (lists of rows, 2+ members) and which links (by position) were kept."""
    forbidden: dict[int, set[int]] = defaultdict(set)
    for a, b in zip(conflict_left.tolist(), conflict_right.tolist(), strict=True):
        forbidden[a].add(b)
        forbidden[b].add(a)
    forest = _Forest()
    kept = np.zeros(len(left), dtype=bool)
    order = np.argsort(-score, kind="stable")
    lefts, rights = left.tolist(), right.tolist()
    for k in order.tolist():
        ra, rb = forest.find(lefts[k]), forest.find(rights[k])
        if ra == rb:
            continue
        small, large = sorted((ra, rb), key=lambda r: len(forest.members[r]))
        if len(forest.members[small]) + len(forest.members[large]) > max_size:
            continue
        if _blocked(forest, small, large, forbidden):
            continue
        forest.union(small, large)
        kept[k] = True
    groups = [sorted(m) for m in forest.members.values() if len(m) > 1]
    groups.sort(key=lambda g: g[0])
    return groups, kept


def _blocked(forest: _Forest, small: int, large: int, forbidden: dict[int, set[int]]) -> bool:
    """Whether a member of `small` conflicts with a member of `large`."""
    for row in forest.members[small]:
        for other in forbidden.get(row, ()):
            if forest.find(other) == large:
                return True
    return False
