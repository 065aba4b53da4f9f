"""Outbound webhooks: what happens in crmsync, delivered to the host app's endpoints.

Events come from the outbound-event outbox (``crmsync.outbound.emit``). ``fanout`` turns
each new event into one delivery per endpoint that takes its type; ``delivery`` sends
due deliveries, signed by the Standard Webhooks scheme (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``), in per-record order, retrying on
``schedule``. ``endpoints`` manages endpoints and their secrets; ``runner`` is the loop
the worker runs.
"""
