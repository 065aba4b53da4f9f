"""Field mappings between canonical records and each CRM: the model, transforms,
suggestions and every provider's defaults."""
