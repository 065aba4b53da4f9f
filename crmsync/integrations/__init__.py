"""Integrations: a workspace's connected CRM accounts, their encrypted credentials, OAuth
and the network guard."""
