"""An integration's settings form: per object type its direction and its schedule; what
else a type's settings hold (batch size, attempts) is kept."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration
from tests.conftest import TestClient
from tests.web.conftest import People, csrf_of


def test_direction_and_schedule_per_object_type(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        crm = Integration(
            workspace_id=people.workspace_id,
            provider="hubspot",
            name="Schedules",
            config={
                "objects": {
                    "contacts": "both",
                    "notes": {"direction": "outbound", "frequency": "1h", "batch_size": 50},
                },
            },
        )
        session.add(crm)
        session.flush()
        crm_id = crm.id
    viewer = signed_in(Role.VIEWER).get(f"/ui/integrations/{crm_id}").text
    assert "contacts: both, real time" in viewer and "notes: outbound, every 1h" in viewer
    manager = signed_in(Role.MANAGER)
    shown = manager.get(f"/ui/integrations/{crm_id}").text
    assert 'name="schedule_notes" value="1h"' in shown
    assert 'name="schedule_contacts" value=""' in shown
    form = {
        "csrf_token": csrf_of(shown),
        "direction_contacts": "both",
        "schedule_contacts": "15m",
        "direction_notes": "outbound",
        "schedule_notes": "",  # back to real time
        "direction_deals": "inbound",
        "frequency": "1h",
    }
    saved = manager.post(f"/ui/integrations/{crm_id}/settings", data=form)
    assert saved.status_code == 200 and "Settings saved" in saved.text, saved.text[-3000:]
    with sessions() as session:
        stored = session.get(Integration, crm_id)
        assert stored is not None
        assert stored.config["objects"] == {
            "contacts": {"direction": "both", "frequency": "15m"},
            "notes": {"direction": "outbound", "batch_size": 50},
            "deals": "inbound",
        }
    bad = manager.post(
        f"/ui/integrations/{crm_id}/settings", data={**form, "schedule_deals": "on tuesdays"}
    )
    assert bad.status_code == 422 and "schedule of deals" in bad.text
