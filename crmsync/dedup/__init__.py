"""Duplicates of a workspace's stored contacts: settings, check, clusters and merge.

The matching itself is ``crmsync.quality.dedup``; this package applies it to the store:
``service`` (check and clusters with the workspace's settings), ``merge`` (one merge in
one transaction, with its outbox jobs) and ``merged`` (where a merged-away id went).
Modules are imported one by one; this package imports none of them, so the record
service can use ``merged`` without a cycle.
"""
