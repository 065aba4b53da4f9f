"""Connectors: the contract every CRM implements, the shared HTTP layer, one folder per CRM."""
