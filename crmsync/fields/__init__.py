"""The canonical field table: every record type crmsync stores and each of its fields.

One description, many views. The records API's pydantic schemas (``records.schemas``),
the mapping schema (``mapping.schema``), import templates, header synonyms for
suggestions, the enums and the docs page ``docs/fields.md`` are all derived from
``crmsync.fields.table.TABLE``; ``tests/test_field_table.py`` fails when any of them,
or the store's columns, disagree with it. This package is foundation (layer 0): it
imports nothing else of crmsync.
"""
