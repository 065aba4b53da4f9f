"""Canonical record services: CRUD, batch upsert and the change log."""
