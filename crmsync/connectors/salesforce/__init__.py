"""The Salesforce connector (REST API, sObject Collections, SOQL polling)."""
