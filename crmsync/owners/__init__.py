"""CRM owners: each integration's CRM users, listed through its API, cached with a time
to live, matched to crmsync users by e-mail, and the table owner fields map through."""
