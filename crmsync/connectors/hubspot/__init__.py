"""The HubSpot connector (CRM v3 API)."""
