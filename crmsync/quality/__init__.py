"""Data quality: normalising, validating and cleansing field values (duplicates are
``crmsync.dedup``)."""
