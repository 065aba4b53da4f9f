"""Sync: the outbox, workers, retries, inbound webhooks and polling, conflicts."""
