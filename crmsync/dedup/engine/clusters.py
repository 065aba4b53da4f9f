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


def components(left: np.ndarray, right: np.ndarray) -> dict[int, int]:
    """Connected component (smallest row in it) of every row that has a link."""
    nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
    a, b = inverse[: len(left)], inverse[len(left) :]
    label = np.arange(len(nodes))
    while True:  # min-label propagation with pointer jumping: a few rounds for small groups
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    return dict(zip(nodes.tolist(), nodes[label].tolist(), strict=True))


def cluster_links(
    left: np.ndarray,
    right: np.ndarray,
    score: np.ndarray,
    conflict_left: np.ndarray,
    conflict_right: np.ndarray,
    max_size: int,
) -> tuple[list[list[int]], np.ndarray]:
    """Clusters (lists of rows, 2+ members) and which links (by position) were kept.

    Components without an inner conflict and within the size limit are clusters as
    they are; only the others are rebuilt link by link, strongest first.
    """
    if len(left) == 0:
        return [], np.zeros(0, dtype=bool)
    component = components(left, right)
    members: dict[int, list[int]] = defaultdict(list)
    for row, root in component.items():
        members[root].append(row)
    troubled = {root for root, rows in members.items() if len(rows) > max_size}
    for a, b in zip(conflict_left.tolist(), conflict_right.tolist(), strict=True):
        joint = component.get(a)
        if joint is not None and joint == component.get(b):
            troubled.add(joint)
    roots = np.array([component[a] for a in left.tolist()])
    careful = np.isin(roots, np.array(sorted(troubled), dtype=roots.dtype))
    groups = [sorted(rows) for root, rows in members.items() if root not in troubled]
    kept = _spanning(left, right, roots, ~careful)
    if careful.any():
        picked = np.flatnonzero(careful)
        forbidden = _conflicts(conflict_left, conflict_right)
        sub_groups, sub_kept = _guarded(
            (left[picked], right[picked]), score[picked], forbidden, max_size
        )
        groups += sub_groups
        kept[picked[sub_kept]] = True
    groups.sort(key=lambda g: g[0])
    return groups, kept


def _spanning(
    left: np.ndarray, right: np.ndarray, roots: np.ndarray, usable: np.ndarray
) -> np.ndarray:
    """A spanning set of links per component: each link that joins new rows."""
    forest = _Forest()
    kept = np.zeros(len(left), dtype=bool)
    for k in np.flatnonzero(usable).tolist():
        ra, rb = forest.find(int(left[k])), forest.find(int(right[k]))
        if ra != rb:
            small, large = sorted((ra, rb), key=lambda r: len(forest.members[r]))
            forest.union(small, large)
            kept[k] = True
    return kept


def _conflicts(left: np.ndarray, right: np.ndarray) -> dict[int, set[int]]:
    forbidden: dict[int, set[int]] = defaultdict(set)
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        forbidden[a].add(b)
        forbidden[b].add(a)
    return forbidden


def _guarded(
    links: tuple[np.ndarray, np.ndarray],
    score: np.ndarray,
    forbidden: dict[int, set[int]],
    max_size: int,
) -> tuple[list[list[int]], np.ndarray]:
    """Clusters built link by link, strongest first, refusing conflicts and oversize."""
    left, right = links
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
