"""Alerts: conditions an admin must act on, found by ``rules``, kept by ``service`` (one
open alert per kind and subject, resolved when the condition clears), told by e-mail
(``mail``: one digest per workspace at most every interval, so a storm is one message)
and as outbound events (``alert.raised``, ``alert.resolved``) to webhooks and the bus.
``runner`` is the loop the worker runs.
"""
