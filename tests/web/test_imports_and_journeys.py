"""The import wizard's options and retry of failed rows, and the journeys page, through
the ASGI client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.imports.jobs import get_job
from crmsync.records.service import create_record, get_record
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, Journey
from tests.conftest import TestClient
from tests.e2e.waiting import wait_for
from tests.web.conftest import People, csrf_of

CSV = b"email,first_name,last_name\nok.one@example.com,Ok,One\nnot-an-address,Bad,Row\n"


def test_upload_options_start_and_retry_failed(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.MANAGER)
    token = csrf_of(client.get("/ui/imports").text)
    uploaded = client.post(
        "/ui/imports",
        data={"csrf_token": token, "object_type": "contacts", "cleanse": "false"},
        files={"file": ("people.csv", CSV, "text/csv")},
    )
    assert uploaded.status_code == 200 and "1 would fail" in uploaded.text
    found = re.search(r"/ui/imports/([0-9a-f-]{36})", str(uploaded.url))
    assert found, uploaded.url
    job_id = uuid.UUID(found.group(1))
    with sessions() as session:
        assert get_job(session, people.workspace_id, job_id).options["cleanse"] is False
    mapping = {"map:email": "email", "map:first_name": "first_name", "map:last_name": ""}
    started = client.post(
        f"/ui/imports/{job_id}", data={"csrf_token": token, "action": "start", **mapping}
    )
    assert started.status_code == 200

    def finished() -> bool:
        with sessions() as session:
            return get_job(session, people.workspace_id, job_id).status == "completed"

    wait_for(finished)
    with sessions() as session:
        job = get_job(session, people.workspace_id, job_id)
        assert job.mapping == {"email": "email", "first_name": "first_name"}
        assert (job.created, job.failed) == (1, 1)
    summary = client.get(f"/ui/imports/{job_id}").text
    assert "Download the failed rows" in summary
    report = client.get(f"/ui/imports/{job_id}/errors.csv")
    assert "not-an-address" in report.text and "ok.one" not in report.text
    retried = client.post(f"/ui/imports/{job_id}/retry", data={"csrf_token": token})
    assert retried.status_code == 200 and "1 failed rows are ready" in retried.text
    assert "people-failed.csv" in retried.text and "Start the import" in retried.text


def test_an_import_is_undone_from_its_page_and_the_history_says_so(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    # the web app could not undo an import, and its history kept calling an import
    # undone over the API "completed" with its rows imported
    client = signed_in(Role.MANAGER)
    token = csrf_of(client.get("/ui/imports").text)
    # an address of its own: the workspace may hold the other tests' contacts
    own = CSV.replace(b"ok.one@", f"undo.{uuid.uuid4().hex[:8]}@".encode())
    uploaded = client.post(
        "/ui/imports",
        data={"csrf_token": token, "object_type": "contacts"},
        files={"file": ("people.csv", own, "text/csv")},
    )
    found = re.search(r"/ui/imports/([0-9a-f-]{36})", str(uploaded.url))
    assert found, uploaded.url
    job_id = uuid.UUID(found.group(1))
    mapping = {"map:email": "email", "map:first_name": "first_name", "map:last_name": ""}
    client.post(f"/ui/imports/{job_id}", data={"csrf_token": token, "action": "start", **mapping})

    def finished() -> bool:
        with sessions() as session:
            return get_job(session, people.workspace_id, job_id).status == "completed"

    wait_for(finished)
    assert "Undo this import" in client.get(f"/ui/imports/{job_id}").text
    undone = client.post(f"/ui/imports/{job_id}/undo", data={"csrf_token": token})
    assert undone.status_code == 200
    assert "Import undone: 1 records deleted" in undone.text
    assert "Undo this import" not in undone.text and "Undone on" in undone.text
    history = client.get("/ui/imports").text
    assert re.search(r"people\.csv</a></td><td>contacts</td><td>undone</td>", history)
    again = client.post(f"/ui/imports/{job_id}/undo", data={"csrf_token": token})
    assert "undone already" in again.text
    # a viewer may not
    viewer = signed_in(Role.VIEWER)
    refused = viewer.post(
        f"/ui/imports/{job_id}/undo", data={"csrf_token": csrf_of(viewer.get("/ui/imports").text)}
    )
    assert refused.status_code == 403


def test_journey_performance_is_for_managers(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        crm = Integration(
            workspace_id=people.workspace_id, provider="totalexpert", name="TE", config={}
        )
        session.add(crm)
        session.flush()
        session.add(
            Journey(
                workspace_id=people.workspace_id,
                integration_id=crm.id,
                remote_id="j-1",
                name="Rate watch",
                steps=[],
            )
        )
    agent = signed_in(Role.AGENT).get("/ui/journeys").text
    assert "Rate watch" in agent and "Performance" not in agent
    manager = signed_in(Role.MANAGER).get("/ui/journeys").text
    assert "Rate watch" in manager and "Performance" in manager


def test_merge_with_field_picker(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        a = create_record(
            session,
            people.workspace_id,
            "contacts",
            {
                "first_name": "Kate",
                "last_name": "Old",
                "email": "kate@a.example",
                "city": "Seattle",
            },
            "api",
        ).id
        b = create_record(
            session, people.workspace_id, "contacts",
            {"first_name": "Katherine", "last_name": "New", "email": "kate@b.example"},
            "api",
        ).id  # fmt: skip
    agent = signed_in(Role.AGENT)
    assert agent.get(f"/ui/duplicates/merge?left={a}&right={b}").status_code == 403
    manager = signed_in(Role.MANAGER)
    form = manager.get(f"/ui/duplicates/merge?left={a}&right={b}")
    assert form.status_code == 200 and "Katherine" in form.text
    merged = manager.post(
        "/ui/duplicates/merge",
        data={
            "csrf_token": csrf_of(form.text),
            "first": str(a),
            "second": str(b),
            "survivor": str(b),  # the second stays
            "pick:first_name": str(a),  # Kate
            "pick:last_name": str(b),  # New
            "pick:email": str(a),
            "pick:city": str(a),
        },
    )
    assert merged.status_code == 200 and "Merged" in merged.text
    assert f"/ui/contacts/{b}" in str(merged.url)
    with sessions() as session:
        kept = get_record(session, people.workspace_id, "contacts", b)
        assert (kept.first_name, kept.last_name, kept.email, kept.city) == (
            "Kate", "New", "kate@a.example", "Seattle",
        )  # fmt: skip
        # the merged-away id leads to the survivor
        assert get_record(session, people.workspace_id, "contacts", a).id == b


LEADS = (
    b"Email,First,Last,Lead Status\n"
    b"ana@example.com,Ana,Silva,Qualifed\n"
    b"bo@example.com,Bo,Li,Working\n"
    b"cy@example.com,Cy,Ray,Someday\n"
    b",No,Contact,NEW\n"
)


def test_severities_and_value_maps_in_the_options_step(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.MANAGER)
    token = csrf_of(client.get("/ui/imports").text)
    shown = client.post(
        "/ui/imports",
        data={"csrf_token": token, "object_type": "leads"},
        files={"file": ("leads.csv", LEADS, "text/csv")},
    )
    assert "4 would fail" in shown.text, shown.text
    job_id = uuid.UUID(str(shown.url).rsplit("/", 1)[1])
    html = shown.text
    assert "How strict" in html and 'name="severity:one_of_required"' in html
    assert 'name="severity:status:enum"' in html
    assert "Values of Lead Status (status)" in html
    # the preview's suggestions come preselected
    assert re.search(r'value="Qualifed">\s*<select[^>]*>.*?<option selected>QUALIFIED<', html, re.S)
    mapping = {"map:Email": "email", "map:First": "first_name", "map:Last": "last_name"}
    form = {
        "csrf_token": token,
        "action": "preview",
        **mapping,
        "map:Lead Status": "status",
        "severity:one_of_required": "warning",
        "was:one_of_required": "error",
        "severity:status:enum": "error",  # unchanged: not stored
        "was:status:enum": "error",
        "vm_col": ["Lead Status", "Lead Status", "Lead Status"],
        "vm_from": ["Qualifed", "Working", "Someday"],
        "vm_to": ["QUALIFIED", "CONTACTED", ""],
        "vm_policy_col": "Lead Status",
        "vm_policy": "keep",
    }
    again = client.post(f"/ui/imports/{job_id}", data=form)
    assert again.status_code == 200 and "0 would fail" in again.text, again.text
    with sessions() as session:
        options = get_job(session, people.workspace_id, job_id).options
    assert options["severity"] == {"one_of_required": "warning"}
    status_map = options["value_maps"]["Lead Status"]
    assert status_map["values"] == {"Qualifed": "QUALIFIED", "Working": "CONTACTED"}
    assert status_map["unknown"] == "keep" and list(options["value_maps"]) == ["Lead Status"]
    # the saved map shows as the page's entries, the unknown value stays offered
    assert "kept in custom_fields.status" in again.text
    refused = client.post(f"/ui/imports/{job_id}", data={**form, "severity:phone": "fatal"})
    assert refused.status_code == 422 and "severity" in refused.text
    bad_policy = client.post(f"/ui/imports/{job_id}", data={**form, "vm_policy": "guess"})
    assert bad_policy.status_code == 422 and "error or keep" in bad_policy.text
    torn = client.post(f"/ui/imports/{job_id}", data={**form, "vm_to": ["QUALIFIED"]})
    assert torn.status_code == 422 and "incomplete" in torn.text
    started = client.post(f"/ui/imports/{job_id}", data={**form, "action": "start"})
    assert started.status_code == 200

    def finished() -> bool:
        with sessions() as session:
            return get_job(session, people.workspace_id, job_id).status == "completed"

    wait_for(finished)
    with sessions() as session:
        job = get_job(session, people.workspace_id, job_id)
        assert (job.created, job.failed) == (4, 0)
    viewer = signed_in(Role.VIEWER)
    page = viewer.get(f"/ui/imports/{job_id}")
    assert page.status_code == 200 and "Start the import" not in page.text


def test_the_upload_form_has_a_drop_zone_over_a_plain_input(
    signed_in: Callable[[Role], TestClient],
) -> None:
    html = signed_in(Role.MANAGER).get("/ui/imports").text
    assert "data-dropzone" in html and 'type="file"' in html
    assert "/ui/static/dropzone.js" in html
    # without script the hint stays hidden: the input alone does the work
    assert re.search(r"data-dropzone-hint hidden", html)
