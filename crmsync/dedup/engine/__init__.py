"""Duplicate detection for contacts: blocking, batch scoring, rules, clusters, explanations.

`find_duplicates(records)` clusters a whole list; `DuplicateIndex.build(records)` indexes
one workspace's contacts so `index.check(candidate)` answers for a single new record.
"""

from crmsync.dedup.engine.explain import FieldEvidence, PairExplanation
from crmsync.dedup.engine.finder import Cluster, DuplicateClusters, find_duplicates
from crmsync.dedup.engine.index import DuplicateCheck, DuplicateIndex
from crmsync.dedup.engine.settings import DedupSettings

__all__ = [
    "Cluster",
    "DedupSettings",
    "DuplicateCheck",
    "DuplicateClusters",
    "DuplicateIndex",
    "FieldEvidence",
    "PairExplanation",
    "find_duplicates",
]
