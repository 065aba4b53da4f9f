"""Contact-based workflows (HubSpot's automation API) and their enrolments.

HubSpot lists workflows at ``GET /automation/v3/workflows`` (one workflow with its
actions at ``/automation/v3/workflows/{id}``) and enrols a contact, named by email, with
``POST /automation/v2/workflows/{id}/enrollments/contacts/{email}`` (``DELETE`` takes it
out); both answer 204 with no body, and a repeat changes nothing. A workflow that is not
enabled refuses enrolment. State lives here, apart from the CRM objects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.hubspot.errors import error_response

DAY_MS = 86_400_000
WORKFLOWS: tuple[dict[str, Any], ...] = (
    {
        "id": 4001,
        "name": "New lead welcome",
        "description": "Welcome series for new contacts",
        "type": "DRIP_DELAY",
        "enabled": True,
        "actions": [
            {"type": "EMAIL", "emailContentId": 501, "emailName": "Welcome"},
            {"type": "DELAY", "delayMillis": 2 * DAY_MS},
            {"type": "EMAIL", "emailContentId": 502, "emailName": "How it works"},
        ],
    },
    {
        "id": 4002,
        "name": "Onboarding",
        "description": "After a deal is won",
        "type": "PROPERTY_ANCHOR",
        "enabled": True,
        "actions": [{"type": "EMAIL", "emailContentId": 511, "emailName": "Getting started"}],
    },
    {
        "id": 4003,
        "name": "Win-back (paused)",
        "description": None,
        "type": "DRIP_DELAY",
        "enabled": False,
        "actions": [],
    },
)


@dataclass
class Workflows:
    """The portal's workflows and who is enrolled in each (by lower-cased email)."""

    clock: Callable[[], float] = time.time
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    enrolled: dict[tuple[int, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.items = {int(w["id"]): dict(w) for w in WORKFLOWS}
            self.enrolled.clear()

    def members(self, workflow_id: int) -> list[str]:
        with self.lock:
            return sorted(e for (w, e) in self.enrolled if w == workflow_id)


def _render(workflow: dict[str, Any], with_actions: bool) -> dict[str, Any]:
    body = {k: v for k, v in workflow.items() if k != "actions" or with_actions}
    body["insertedAt"] = body["updatedAt"] = 1_700_000_000_000
    return body


def workflow_routes(state: Workflows) -> list[Route]:
    async def list_workflows(request: Request) -> Response:
        with state.lock:
            rows = [_render(w, False) for _, w in sorted(state.items.items())]
        return _json({"workflows": rows})

    async def get_workflow(request: Request) -> Response:
        found = state.items.get(_int(request.path_params["id"]))
        if found is None:
            return error_response(404, "OBJECT_NOT_FOUND", "resource not found")
        return _json(_render(found, True))

    async def enroll(request: Request) -> Response:
        workflow_id = _int(request.path_params["id"])
        found = state.items.get(workflow_id)
        if found is None:
            return error_response(404, "OBJECT_NOT_FOUND", "resource not found")
        if not found["enabled"]:
            return error_response(400, "VALIDATION_ERROR", f"workflow {workflow_id} is not enabled")
        email = request.path_params["email"].strip().lower()
        with state.lock:
            state.enrolled.setdefault((workflow_id, email), state.clock())
        return Response(status_code=204)

    async def unenroll(request: Request) -> Response:
        workflow_id = _int(request.path_params["id"])
        if workflow_id not in state.items:
            return error_response(404, "OBJECT_NOT_FOUND", "resource not found")
        with state.lock:
            state.enrolled.pop((workflow_id, request.path_params["email"].strip().lower()), None)
        return Response(status_code=204)

    enrolment = "/automation/v2/workflows/{id}/enrollments/contacts/{email}"
    return [
        Route("/automation/v3/workflows", list_workflows, methods=["GET"]),
        Route("/automation/v3/workflows/{id}", get_workflow, methods=["GET"]),
        Route(enrolment, enroll, methods=["POST"]),
        Route(enrolment, unenroll, methods=["DELETE"]),
    ]


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
