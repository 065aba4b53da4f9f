"""Duplicate detection for contacts: blocking, batch scoring, rules, clusters, explanations.

`find_duplicates(records)` clusters a whole list; `DuplicateIndex.build(records)` indexes
one workspace's contacts so `index.check(candidate)` answers for a single new record.
"""

from crmsync.quality.dedup.explain import FieldEvidence, PairExplanation
from crmsync.quality.dedup.finder import Cluster, DuplicateClusters, find_duplicates
from crmsync.quality.dedup.index import DuplicateCheck, DuplicateIndex
from crmsync.quality.dedup.settings import DedupSettings

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
