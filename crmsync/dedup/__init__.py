"""Duplicates, in one package: the matching engine below, its uses above.

- ``engine``: blocking, scoring, rules, clusters and explanations over plain rows; it
  knows nothing of the store (``find_duplicates``, ``DuplicateIndex``, ``StreamMatcher``).
- ``guard``: one import's duplicate checks, row by row in file order, and the one
  decision of which process holds them.
- ``settings``: a workspace's dedup settings; ``snapshot``: the workspace's index kept
  for checks and clusters; ``service``: check and clusters through the API;
  ``reviews``: possible duplicates waiting for a person; ``merge`` and ``strategies``:
  one merge in one transaction, with its outbox jobs.

Imports and records call into this package; it imports neither the import feature nor
the API. Where a merged-away id went is ``crmsync.records.merged``, part of the store's
record rules, so the record service needs nothing from here.
"""
