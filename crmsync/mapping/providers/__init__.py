"""Default mapping files of each provider (YAML, read by crmsync.mapping.defaults)."""
