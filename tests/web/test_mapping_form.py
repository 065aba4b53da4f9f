"""The field-mapping page's form editor, with suggestions read from the HubSpot
sandbox's own fields (a custom one included)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.sandbox.server import SandboxServer
from crmsync.store.models import Integration
from crmsync.sync.targets import mapping_for
from tests.web.conftest import People, connect_hubspot, csrf_of, foreign_integration, sign_in


def test_form_editor_with_suggestions(
    sandbox_app: FastAPI,
    hubspot: SandboxServer,
    people: People,
    sessions: sessionmaker[Session],
) -> None:
    sandbox = hubspot.get("hubspot").sandbox
    url = hubspot.url("hubspot")
    auth = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}  # type: ignore[attr-defined]
    made = httpx.post(
        f"{url}/crm/v3/properties/contacts",
        json={
            "name": "address_2",
            "label": "Address line 2",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        },
        headers=auth,
    )
    assert made.status_code in (200, 201, 409), made.text  # 409: made for the other backend
    manager = sign_in(sandbox_app, people.emails[Role.MANAGER])
    crm_id = connect_hubspot(manager, hubspot)
    page = manager.get(f"/ui/integrations/{crm_id}/mapping")
    assert "Edit with the form" in page.text and 'name="f:contacts:0:target"' in page.text
    token = csrf_of(page.text)

    # suggestions: the custom property is proposed for the unmapped address_line2
    suggested = manager.get(f"/ui/integrations/{crm_id}/mapping?suggest=contacts")
    assert "suggested (" in suggested.text, suggested.text
    assert "<option selected>address_line2</option>" in suggested.text
    assert 'value="address_2"' in suggested.text
    assert '<datalist id="remote-contacts">' in suggested.text

    with sessions() as session:
        crm = session.get(Integration, crm_id)
        assert crm is not None
        before = mapping_for(session, crm).objects
    contacts = next(o for o in before if o.value == "contacts")
    fields = before[contacts].fields
    phone_index = next(i for i, f in enumerate(fields) if f.source == "phone")
    data = {
        "csrf_token": token,
        # a field removed, another's direction changed, one added from the suggestion
        f"f:contacts:{phone_index}:target": "",
        "f:contacts:0:target": fields[0].target,
        "f:contacts:0:type": fields[0].type.value,
        "f:contacts:0:direction": "inbound",
        "n:contacts:0:source": "address_line2",
        "n:contacts:0:target": "address_2",
        "n:contacts:0:type": "string",
        "n:contacts:0:direction": "both",
        "n:contacts:1:source": "",
        "n:contacts:1:target": "",
    }
    saved = manager.post(f"/ui/integrations/{crm_id}/mapping/form", data=data)
    assert saved.status_code == 200 and "Mapping saved" in saved.text, saved.text
    with sessions() as session:
        crm = session.get(Integration, crm_id)
        assert crm is not None
        after = mapping_for(session, crm).objects[contacts].fields
    by_source = {f.source: f for f in after}
    assert "phone" not in by_source
    assert by_source["address_line2"].target == "address_2"
    assert by_source[fields[0].source].direction.value == "inbound"
    assert by_source[fields[0].source].transforms == fields[0].transforms
    assert len(after) == len(fields)  # one gone, one added

    # refused with the row named; nothing saved
    half = manager.post(
        f"/ui/integrations/{crm_id}/mapping/form",
        data={"csrf_token": token, "n:contacts:0:source": "social_profiles"},
    )
    assert half.status_code == 422 and "new field 1" in half.text
    bad_type = manager.post(
        f"/ui/integrations/{crm_id}/mapping/form",
        data={"csrf_token": token, "f:contacts:0:target": "x", "f:contacts:0:type": "blob"},
    )
    assert bad_type.status_code == 422 and "type" in bad_type.text

    # a viewer reads the tables, no form; an agent may not post
    viewer = sign_in(sandbox_app, people.emails[Role.VIEWER])
    shown = viewer.get(f"/ui/integrations/{crm_id}/mapping")
    assert shown.status_code == 200 and "Edit with the form" not in shown.text
    agent = sign_in(sandbox_app, people.emails[Role.AGENT])
    agent_token = csrf_of(agent.get("/ui/contacts").text)
    refused = agent.post(
        f"/ui/integrations/{crm_id}/mapping/form", data={"csrf_token": agent_token}
    )
    assert refused.status_code == 403


def test_another_workspaces_mapping_answers_404(
    sandbox_app: FastAPI, people: People, sessions: sessionmaker[Session]
) -> None:

    theirs_id = foreign_integration(sessions)
    manager = sign_in(sandbox_app, people.emails[Role.MANAGER])
    token = csrf_of(manager.get("/ui/contacts").text)
    assert manager.get(f"/ui/integrations/{theirs_id}/mapping?suggest=contacts").status_code == 404
    posted = manager.post(f"/ui/integrations/{theirs_id}/mapping/form", data={"csrf_token": token})
    assert posted.status_code == 404
