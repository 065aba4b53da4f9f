"""Sign-in throttling: too many refused sign-ins for one e-mail or from one address, in a
window, refuse the next ones before any password is checked.

The failures are rows (``sign_in_failures``), so every server process sees the same count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from crmsync.store.models import SignInFailure

WINDOW = timedelta(minutes=15)
PER_EMAIL = 5
PER_ADDRESS = 20


def throttled(session: Session, email: str, address: str, now: datetime | None = None) -> bool:
    since = (now or datetime.now(UTC)) - WINDOW
    by_email = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.email == email[:320], SignInFailure.at > since)
    )
    if (by_email or 0) >= PER_EMAIL:
        return True
    by_address = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.address == address[:64], SignInFailure.at > since)
    )
    return (by_address or 0) >= PER_ADDRESS


def record_failure(session: Session, email: str, address: str) -> None:
    now = datetime.now(UTC)
    session.add(SignInFailure(email=email[:320], address=address[:64], at=now))
    # old rows are of no further use
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - WINDOW))


def forget(session: Session, email: str) -> None:
    """A successful sign-in clears the e-mail's failures (the address's stay)."""
    session.execute(delete(SignInFailure).where(or_(SignInFailure.email == email[:320])))
