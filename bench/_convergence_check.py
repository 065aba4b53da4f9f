"""The convergence soak's checker: what every side holds at the end, against the writes.

Sides are the app (crmsync's store) and each CRM sandbox; contacts are told apart by
their email, which no writer changes. For each contact and field the checker reports:

- **divergent**: a live contact whose sides disagree on the field (phones compared in
  E.164, so formatting is not a difference);
- **lost update** (``last_write_wins`` only): the value all sides hold is not that of a
  write that may have been the latest — a write counts as possibly latest when no
  other write began more than the clock granularity after it ended (Pipedrive stamps
  whole seconds; the app and HubSpot milliseconds);
- **duplicate**: more than one live copy of a contact on one side;
- **resurrected**: a contact deleted on some side that is live anywhere at the end;
- **open** and **spurious** conflicts: a conflict is spurious when its two values are
  the same, or that CRM's writer never wrote the field of that contact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from crmsync.quality.normalize import normalize_phone

FIELDS = ("first_name", "last_name", "phone")
GRANULARITY = {"app": 0.0, "hubspot": 0.001, "pipedrive": 1.0}


@dataclass(frozen=True)
class Write:
    email: str
    field: str
    value: str
    side: str  # app | hubspot | pipedrive
    began: float
    ended: float
    certain: bool = True  # False: the request's outcome is unknown (a dropped answer)


@dataclass
class Report:
    contacts: int = 0
    writes: int = 0
    deletes: int = 0
    divergent: int = 0
    lost: int = 0
    duplicates: int = 0
    resurrected: int = 0
    open_conflicts: int = 0
    spurious_conflicts: int = 0
    conflicts: int = 0
    dead_letters: int = 0
    examples: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase of the run

    def failures(self) -> int:
        """Broken guarantees: any of them fails the run."""
        return (
            self.divergent
            + self.lost
            + self.duplicates
            + self.resurrected
            + self.open_conflicts
            + self.spurious_conflicts
        )

    def note(self, text: str) -> None:
        if len(self.examples) < 8:
            self.examples.append(text)


def norm(name: str, value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    return (normalize_phone(text) or text) if name == "phone" else text


def possibly_latest(writes: list[Write]) -> list[Write]:
    """Writes no other certain write began after (beyond either clock's granularity)."""
    out = []
    for w in writes:
        later = (
            o
            for o in writes
            if o is not w
            and o.certain
            # either clock may be the coarse one (Pipedrive stamps whole seconds)
            and o.began > w.ended + max(GRANULARITY[w.side], GRANULARITY[o.side])
        )
        if next(later, None) is None:
            out.append(w)
    return out


def check(
    sides: dict[str, dict[str, list[dict[str, Any]]]],
    deleted: set[str],
    everyone: set[str],
    writes: list[Write],
    conflicts: list[dict[str, Any]],
    initial: dict[str, dict[str, str]],
    lww: bool,
) -> Report:
    """``sides``: side -> email -> live copies (canonical field -> value)."""
    report = Report(contacts=len(everyone), writes=len(writes), deletes=len(deleted))
    for side, by_email in sides.items():
        for email, found in by_email.items():
            if len(found) > 1:
                report.duplicates += len(found) - 1
                report.note(f"duplicate {email} in {side}")
            if email in deleted:
                report.resurrected += 1
                report.note(f"resurrected {email} in {side}")
    by_key: dict[tuple[str, str], list[Write]] = defaultdict(list)
    for w in writes:
        by_key[(w.email, w.field)].append(w)
    for email in sorted(everyone - deleted):
        copies = {side: by_email.get(email, []) for side, by_email in sides.items()}
        if any(not c for c in copies.values()):
            report.divergent += 1
            missing = [s for s, c in copies.items() if not c]
            report.note(f"{email} missing in {missing}")
            continue
        for name in FIELDS:
            values = {side: norm(name, c[0].get(name)) for side, c in copies.items()}
            if len(set(values.values())) > 1:
                report.divergent += 1
                report.note(f"divergent {email}.{name}: {values}")
                continue
            if not lww:
                continue
            final = next(iter(values.values()))
            history = by_key.get((email, name), [])
            certain = [w for w in history if w.certain]
            allowed = {norm(name, w.value) for w in possibly_latest(certain)}
            if not certain:
                allowed = {norm(name, initial[email].get(name))}
            # a request whose answer was lost may or may not have been written
            allowed |= {norm(name, w.value) for w in history if not w.certain}
            if final not in allowed:
                report.lost += 1
                report.note(f"lost update {email}.{name}: final {final!r}, latest {allowed}")
    written = {(w.email, w.field, w.side) for w in writes}
    for conflict in conflicts:
        report.conflicts += 1
        if conflict["status"] == "open":
            report.open_conflicts += 1
        same = norm(conflict["field"], conflict["local_value"]) == norm(
            conflict["field"], conflict["remote_value"]
        )
        wrote = (conflict["email"], conflict["field"], conflict["side"]) in written
        if same or not wrote:
            report.spurious_conflicts += 1
            report.note(f"spurious conflict {conflict}")
    return report
