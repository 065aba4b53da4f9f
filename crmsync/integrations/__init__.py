"""Integrations: a workspace's connected CRM accounts, their encrypted credentials and OAuth
flows (the network guard itself is in ``connectors.http.guard``)."""
