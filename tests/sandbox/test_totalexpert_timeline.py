"""Total Expert sandbox: notes, the activity feed, journeys and engagement of a contact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.sandbox.test_totalexpert_contacts import person, start, token


def _contact(te: httpx.Client, last_name: str = "Lee") -> int:
    return int(te.post("/v1/contacts", json=person(last_name)).json()["id"])


def _note(contact_id: int, title: str, **extra: Any) -> dict[str, Any]:
    """A note body with what a create needs: title, note, type, contact and owner."""
    body = {"title": title, "note": title, "type_id": 1, "owner": {"username": "sandbox.owner"}}
    return {**body, "contact": {"id": contact_id}, **extra}


def test_notes_crud_and_their_activity(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    contact_id = _contact(te)
    made = te.post(
        "/v1/contact-notes",
        json=_note(contact_id, "Call", note="<p>Wants a refi</p>"),
    )  # fmt: skip
    assert made.status_code == 201
    note_id = made.json()["id"]
    note = te.get(f"/v1/contact-notes/{note_id}").json()
    assert note["contact"] == {"id": contact_id}
    assert note["type"] == {"id": 1, "name": "General Note"}
    assert te.patch(f"/v1/contact-notes/{note_id}", json={"title": "Call back"}).json() == []
    listed = te.get("/v1/contact-notes", params={"filter": "title_contains=back"}).json()
    assert [n["id"] for n in listed["items"]] == [note_id]

    activity = te.get("/v1/activity", params={"filter": f"contact_id={contact_id}"}).json()
    assert [(a["type"], a["note_id"]) for a in activity["items"]] == [("Note Added", note_id)]
    one = te.get(f"/v1/activity/{activity['items'][0]['id']}").json()
    assert one["contact_id"] == contact_id
    # the activity feed is read-only
    assert te.post("/v1/activity", json={"type": "x"}).status_code == 405

    assert te.delete(f"/v1/contact-notes/{note_id}").json() == []
    assert te.get(f"/v1/contact-notes/{note_id}").status_code == 404


def test_note_for_a_missing_contact_is_422(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    answer = te.post("/v1/contact-notes", json=_note(1, "x"))
    assert answer.status_code == 422
    assert answer.json() == {"error": "Unable to find target for relationship: 'contact'"}


def test_journey_enrolment_and_unenrolment(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    contact_id = _contact(te)
    journeys = te.get("/v1/journeys").json()["items"]
    assert {j["name"] for j in journeys} >= {"New Lead Nurture"}
    active = next(j for j in journeys if j["active"] == "True")
    inactive = next(j for j in journeys if j["active"] == "False")

    enrolled = te.post(
        f"/v1/journeys/{active['id']}/enrollments", json={"contact": {"id": contact_id}}
    )
    assert enrolled.status_code == 201
    again = te.post(
        f"/v1/journeys/{active['id']}/enrollments", json={"contact": {"id": contact_id}}
    )
    assert again.status_code == 200 and again.json()["id"] == enrolled.json()["id"]
    assert "duplicate" in again.json()
    assert te.get(f"/v1/journeys/{active['id']}").json()["enrollment_count"] == 1
    members = te.get(f"/v1/journeys/{active['id']}/enrollments").json()["items"]
    assert [(m["contact"]["id"], m["status"]) for m in members] == [(contact_id, "active")]

    refused = te.post(
        f"/v1/journeys/{inactive['id']}/enrollments", json={"contact": {"id": contact_id}}
    )
    assert refused.status_code == 422 and "not active" in refused.json()["error"]
    missing = te.post(f"/v1/journeys/{active['id']}/enrollments", json={"contact": {"id": 1}})
    assert missing.status_code == 422

    left = te.delete(f"/v1/journeys/{active['id']}/enrollments/{contact_id}")
    assert left.status_code == 200 and left.json() == []
    assert te.delete(f"/v1/journeys/{active['id']}/enrollments/{contact_id}").status_code == 404
    assert te.get(f"/v1/journeys/{active['id']}").json()["enrollment_count"] == 0
    kinds = [a["type"] for a in te.get("/v1/activity").json()["items"]]
    assert kinds == ["Journey Enrolled", "Journey Unenrolled"]
    assert te.get("/v1/journeys/999").status_code == 404


def test_note_outcome_starts_the_note_triggered_journey(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    contact_id = _contact(te)
    te.post(
        "/v1/contact-notes",
        json=_note(contact_id, "Pre-approved", outcome={"outcome_id": 4}),
    )
    triggered = [j for j in te.get("/v1/journeys").json()["items"] if j["enrollment_count"] == 1]
    assert [j["trigger_type"] for j in triggered] == ["note_outcome"]


def test_engagement_counts_what_the_contact_did(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    contact_id = _contact(te)
    other = _contact(te, "Other")
    for kind in ("Email Sent", "Email Opened", "Email Opened", "Page View"):
        answer = te.post(
            "/_sandbox/change",
            json={"object_type": "activity", "fields": {"contact_id": contact_id, "type": kind}},
        )
        assert answer.status_code == 200
    te.post(
        "/_sandbox/change",
        json={"object_type": "activity", "fields": {"contact_id": other, "type": "Email Opened"}},
    )
    te.post("/v1/contact-notes", json=_note(contact_id, "not engagement"))

    engagement = te.get(f"/v1/contacts/{contact_id}/engagement").json()
    assert engagement["contact_id"] == contact_id
    assert engagement["totals"]["Email Opened"] == 2
    assert engagement["totals"]["Email Sent"] == 1
    assert engagement["totals"]["Page View"] == 1
    assert len(engagement["events"]) == 4
    assert engagement["last_engaged_at"] is not None
    assert te.get("/v1/contacts/1/engagement").status_code == 404


def test_insights_show_in_the_activity_feed(serve: Callable[..., Any]) -> None:
    sandbox, te = start(serve)
    contact_id = _contact(te)
    types = te.get("/v1/insight-types").json()["items"]
    rate_alert = next(t for t in types if t["name"] == "Rate Alert")
    made = te.post(
        "/v1/insights",
        json={"data": {"description": "30-year fixed fell to 5.9%"},
              "insight_date": "2026-01-05 10:00:00", "owner": {"id": 1},
              "contact": {"id": contact_id}, "type": {"id": rate_alert["id"]}},
    )  # fmt: skip
    assert made.status_code == 201
    listed = te.get("/v1/insights").json()["items"]
    assert [(i["id"], i["type"]["name"], i["contact"]["id"]) for i in listed] == [
        (made.json()["id"], "Rate Alert", contact_id)
    ]
    feed = te.get("/v1/activity", params={"filter": f"contact_id={contact_id}"}).json()["items"]
    assert [(a["type"], a["title"], a["details"]) for a in feed] == [
        ("Insight", "Rate Alert", "30-year fixed fell to 5.9%")
    ]
    unknown_type = te.post("/v1/insights", json={"contact": {"id": contact_id}, "type": {"id": 99}})
    assert unknown_type.status_code == 422
    assert unknown_type.json() == {"error": "Unable to find target for relationship: 'type'"}
    no_contact = te.post("/v1/insights", json={"contact": {"id": 1}, "type": {"id": 1}})
    assert no_contact.json() == {"error": "Unable to find target for relationship: 'contact'"}
    te.post("/_sandbox/reset")
    te.headers["Authorization"] = f"Bearer {token(str(te.base_url).rstrip('/'), sandbox)}"
    assert te.get("/v1/insights").json()["items"] == []
