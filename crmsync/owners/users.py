"""Who a CRM owner is in crmsync: the match by e-mail.

crmsync has no user table yet: a record's ``owner`` (``assigned_agent`` of leads) holds
its owner's e-mail, and that e-mail *is* the crmsync user. ``match_key`` is the one
place that says how an owner field's value and a CRM user's e-mail meet (trimmed,
lower-cased). A users table added later plugs in here: ``UserDirectory`` turns an
e-mail key into the user's own reference, and owner fields keep holding e-mails.
"""

from __future__ import annotations

from typing import Any, Protocol


def match_key(value: Any) -> str | None:
    """The key an e-mail is matched by; None for what is not an e-mail."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    return key if "@" in key else None


class UserDirectory(Protocol):
    def user_of(self, email_key: str) -> dict[str, Any] | None:
        """The crmsync user with this e-mail key, as the API shows it; None if unknown."""


class EmailUsers:
    """Today's directory: every e-mail is a user (the one owner fields name)."""

    def user_of(self, email_key: str) -> dict[str, Any] | None:
        return {"email": email_key}


DIRECTORY: UserDirectory = EmailUsers()
