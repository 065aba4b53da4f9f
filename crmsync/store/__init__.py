"""Persistence: engine, sessions, typed models and migrations."""
