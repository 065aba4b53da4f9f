"""Marketing on top of records, events and sync (docs/marketing.md).

- ``on_event``: the event router's subscriber; ``activities`` turns events into
  activities, ``triggers`` runs the trigger rules (``rules``, ``rule_spec``).
- ``engagement`` (the model), ``engagement_service`` (incremental, explain),
  ``engagement_bulk`` (every contact in SQL), ``crm_engagement`` (what CRMs report).
- ``journeys`` (the catalogue), ``schedule`` (its refresh), ``enrollments``,
  ``enrollment_push`` and ``timeline`` (sync objects, pushed by the worker through
  ``pushers``), ``stats``, ``settings``.

Services take the caller's session and never commit (``schedule`` is the worker's and
commits its own refreshes).
"""
