"""Set up the CRM side of an integration: what its mappings and webhooks need there.

``plan`` reads the CRM (its fields, property groups, webhook subscriptions) and lists
every item the integration needs, each ``present``, ``missing`` or ``manual`` (an API
cannot do it; the item says what the admin must click). ``apply`` creates what is
missing through the CRM's own API and reports each item ``created``, ``exists`` or
``failed`` with the CRM's reason; run twice, it creates nothing the second time. One
module per provider says what its API can create (``hubspot``, ``salesforce``,
``pipedrive``, ``generic``); ``service`` ties them to an integration row, and never
commits.
"""
