"""Automation rules: when something happens, check conditions, then act.

A rule is data (``spec``): a trigger (an app event type, or a record change: created,
field changed, deal stage entered, lead status entered; from the app, a CRM or both), a
condition in a small safe grammar (``conditions``: comparisons, ``in``, ``all``/``any``/
``not``; nothing is executed) and actions (``actions``: update fields, create a related
record, log an activity or a task, emit an outbound event, raise an alert). ``runner``
reads record changes from the outbound-event outbox; app events reach rules through the
event router. Every run is logged with its cause, a rule fires once per change, and a
rule whose own action would trigger it again is stopped (``engine``).
"""
