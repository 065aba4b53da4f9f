"""App events: what happened in the app (a lead created, a loan milestone, a message sent)."""
