"""The HTTP API: the FastAPI app, one router per resource, the error shape and the guards."""
