"""Total Expert sandbox fidelity: one test per documented behaviour of
docs/sandboxes-fidelity.md (rows TE-n). Total
Expert has no official client; these speak HTTP as its public Postman collection does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.sandbox.test_totalexpert_contacts import person, start

OWNER = {"username": "sandbox.owner"}


def _note(contact: Any, **extra: Any) -> dict[str, Any]:
    return {"title": "T", "note": "N", "type_id": 1, "contact": contact, "owner": OWNER, **extra}


@pytest.fixture
def te(serve: Callable[..., Any]) -> httpx.Client:
    return start(serve)[1]


# TE-1
@pytest.mark.parametrize(
    ("drop", "missing"),
    [("source", "source"), ("email", "email"), ("last_name", "last_name")],
)
def test_contacts_need_source_and_an_identifying_combination(
    te: httpx.Client, drop: str, missing: str
) -> None:
    body = {k: v for k, v in person("Lee").items() if k != drop}
    answer = te.post("/v1/contacts", json=body)
    assert answer.status_code == 422 and missing in answer.json()["error"]


# TE-2
def test_any_documented_identifying_combination_creates(te: httpx.Client) -> None:
    base = {"first_name": "A", "last_name": "B", "source": "app", "owner": OWNER}
    for extra in (
        {"phone_home": "(555)555-0101"},
        {"address": "1 Main", "city": "Reno", "state": "NV", "zip_code": "89501"},
    ):
        assert te.post("/v1/contacts", json={**base, **extra}).status_code == 201


# TE-3
def test_notes_need_title_note_type_contact_and_owner(te: httpx.Client) -> None:
    contact_id = te.post("/v1/contacts", json=person("Lee")).json()["id"]
    for name in ("title", "note", "type_id"):
        body = {k: v for k, v in _note({"id": contact_id}).items() if k != name}
        answer = te.post("/v1/contact-notes", json=body)
        assert answer.status_code == 422 and name in answer.json()["error"]
    without_owner = {k: v for k, v in _note({"id": contact_id}).items() if k != "owner"}
    answer = te.post("/v1/contact-notes", json=without_owner)
    assert answer.json() == {"error": "Unable to find target for relationship: 'owner'"}
    assert (
        te.post("/v1/contact-notes", json=_note({"id": contact_id}, type_id=99)).status_code == 422
    )


# TE-4
def test_a_note_owner_must_own_the_contact(te: httpx.Client) -> None:
    contact_id = te.post("/v1/contacts", json=person("Lee")).json()["id"]
    other_owner = {**_note({"id": contact_id}), "owner": {"id": 2}}
    answer = te.post("/v1/contact-notes", json=other_owner)
    assert answer.json() == {"error": "Unable to find target for relationship: 'contact'"}


# TE-5
def test_notes_address_their_contact_by_attributes(te: httpx.Client) -> None:
    contact_id = te.post("/v1/contacts", json=person("Gable")).json()["id"]
    match = {"first_name": "F", "last_name": "Gable", "email": "Gable@x.io", "source": "app"}
    made = te.post("/v1/contact-notes", json=_note(match))
    assert made.status_code == 201
    assert te.get(f"/v1/contact-notes/{made.json()['id']}").json()["contact"] == {"id": contact_id}
    wrong = te.post("/v1/contact-notes", json=_note({**match, "email": "other@x.io"}))
    assert wrong.status_code == 422  # never a new contact from a note


# TE-6
def test_contact_groups_must_exist_and_can_be_managed(te: httpx.Client) -> None:
    refused = te.post("/v1/contacts", json=person("Lee", contact_groups=[{"group_name": "VIP"}]))
    assert refused.json() == {"error": "Unable to find target for relationship: 'contact_groups'"}
    made = te.post("/v1/contact-groups", json={"group_name": "VIP", "owner": OWNER})
    assert made.status_code == 201
    again = te.post("/v1/contact-groups", json={"group_name": "VIP", "owner": OWNER})
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert te.post("/v1/contact-groups", json={"group_name": "X"}).status_code == 422
    joined = te.post("/v1/contacts", json=person("Lee", contact_groups=[{"id": made.json()["id"]}]))
    contact = te.get(f"/v1/contacts/{joined.json()['id']}").json()
    assert contact["contact_groups"] == [{"group_name": "VIP"}]
    names = [g["group_name"] for g in te.get("/v1/contact-groups").json()["items"]]
    assert "VIP" in names and "Past Client" in names


# TE-7
def test_custom_values_need_a_definition_of_their_type(te: httpx.Client) -> None:
    schema = te.get("/v1/schema/custom-fields").json()["items"]
    assert {d["system_name"]: d["data_type"] for d in schema}["pre_approval_amount"] == "decimal"
    undefined = person("A", custom=[{"field_name": "nope", "value": "x"}])
    assert te.post("/v1/contacts", json=undefined).status_code == 422
    wrong_type = person("B", custom=[{"field_name": "pre_approval_amount", "value": "lots"}])
    assert te.post("/v1/contacts", json=wrong_type).status_code == 400
    loan_field = person("C", custom=[{"field_name": "rate_lock_days", "value": 30}])
    assert te.post("/v1/contacts", json=loan_field).status_code == 422  # a loan field
    fine = person("D", custom=[{"field_name": "pre_approval_amount", "value": 350000.5}])
    assert te.post("/v1/contacts", json=fine).status_code == 201


# TE-8
def test_loans_need_an_external_id_owner_and_borrower(te: httpx.Client) -> None:
    borrower = {"source": "LOS", "first_name": "Jenny", "last_name": "K", "email": "jk@x.io"}
    body = {
        "external_id": "L-1",
        "loan_number": "L-1",
        "owner": OWNER,
        "borrower": borrower,
        "loan_status": {"loan_status": "Pending"},
    }
    for name in ("external_id", "owner", "borrower"):
        partial = {k: v for k, v in body.items() if k != name}
        assert te.post("/v1/loans", json=partial).status_code == 422, name
    bad_borrower = {**body, "borrower": {"first_name": "No", "last_name": "Source"}}
    assert te.post("/v1/loans", json=bad_borrower).status_code == 422
    made = te.post("/v1/loans", json=body)
    assert made.status_code == 201
    loan = te.get(f"/v1/loans/{made.json()['id']}").json()
    assert loan["loan_status"] == {"loan_status": "Pending"} and loan["borrower"]["id"]
    again = te.post("/v1/loans", json={**body, "loan_amount": 300000})
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]


# TE-9
def test_lead_opportunities_follow_the_new_endpoint(te: httpx.Client) -> None:
    minimal = {"first_name": "John", "last_name": "Doe", "source": "website"}
    missing = te.post("/v1/lead-opportunities", json=minimal)
    assert missing.status_code == 400 and "either phone or email" in missing.json()["error"]
    half_product = {**minimal, "email": "j@x.io", "product": {"type": "mortgage", "values": {}}}
    assert te.post("/v1/lead-opportunities", json=half_product).status_code == 400
    made = te.post("/v1/lead-opportunities", json={**minimal, "email": "j@x.io"})
    assert made.status_code == 201 and made.json()["contact_id"]
    lead_id = made.json()["id"]
    assert len(lead_id) == 36
    assert (
        te.patch(f"/v1/lead-opportunities/{lead_id}", json={"stage": {"id": "2"}}).status_code
        == 400
    )
    stage = {"contact_id": made.json()["contact_id"], "stage": {"id": "2", "name": "Contacted"}}
    assert (
        te.patch(f"/v1/lead-opportunities/{lead_id}", json=stage).json()["stage"]["name"]
        == "Contacted"
    )
    listed = te.get("/v1/lead-opportunities", params={"sort": "-updated_at"}).json()
    assert [x["id"] for x in listed["items"]] == [lead_id]
    assert te.get("/v1/lead-opportunities", params={"sort": "colour"}).status_code == 400
    gone = te.get("/v1/lead-opportunities/00000000-0000-0000-0000-000000000000")
    assert gone.status_code == 404 and "message" in gone.json()


# TE-10
def test_users_are_listed_and_fetched(te: httpx.Client) -> None:
    users = te.get("/v1/users").json()["items"]
    assert [u["username"] for u in users] == ["sandbox.owner", "sandbox.agent"]
    assert te.get("/v1/users/2").json()["email"] == "agent@sandbox.example"
