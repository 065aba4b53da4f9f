"""The declarative REST connector: a YAML definition instead of code per CRM."""
