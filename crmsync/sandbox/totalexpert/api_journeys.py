"""Journeys and enrolments, in Total Expert's conventions.

Total Expert's public API has no journeys endpoint (journeys are built in its UI and
started by data such as note outcomes); these routes are the sandbox's stand-in so
crmsync's journey features have something to list, enrol into and unenrol from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import paging
from crmsync.sandbox.totalexpert.account import Account, Record
from crmsync.sandbox.totalexpert.api_contacts import Handler, Wrap
from crmsync.sandbox.totalexpert.bodies import json_body, location
from crmsync.sandbox.totalexpert.contacts import te_time
from crmsync.sandbox.totalexpert.errors import TotalExpertError, json_response


def render_enrollment(enrollment: Record) -> dict[str, Any]:
    return {
        "id": enrollment["id"],
        "journey": {"id": enrollment["journey_id"]},
        "contact": {"id": enrollment["contact_id"]},
        "status": enrollment["status"],
        "enrolled_at": te_time(enrollment["enrolled_at"]),
        "unenrolled_at": (
            None if enrollment["unenrolled_at"] is None else te_time(enrollment["unenrolled_at"])
        ),
    }


def routes(account: Account, wrap: Wrap) -> list[Route]:
    def render_journey(journey: Record) -> dict[str, Any]:
        active, completed = account.journey_counts(journey["id"])
        total = sum(1 for (j, _) in account.enrollments if j == journey["id"])
        return {
            **journey,
            "active": "True" if journey["active"] else "False",
            "enrollment_count": active,
            "completion_rate": round(completed / total, 4) if total else 0.0,
        }

    async def list_journeys(request: Request) -> Response:
        rows = sorted(account.journeys.values(), key=lambda j: j["id"])
        return json_response(paging.page(rows, request.query_params, render_journey))

    async def get_journey(request: Request) -> Response:
        return json_response(render_journey(account.journey(request.path_params["id"])))

    async def list_enrollments(request: Request) -> Response:
        journey = account.journey(request.path_params["id"])
        rows = [e for (j, _), e in sorted(account.enrollments.items()) if j == journey["id"]]
        return json_response(paging.page(rows, request.query_params, render_enrollment))

    async def enroll(request: Request) -> Response:
        body = await json_body(request)
        target = body.get("contact") if isinstance(body, Mapping) else None
        if not isinstance(target, Mapping) or "id" not in target:
            raise TotalExpertError(422, "Unable to find target for relationship: 'contact'")
        journey_id = request.path_params["id"]
        created, enrollment = account.enroll(journey_id, target["id"])
        url = location(request, f"/v1/journeys/{journey_id}/enrollments/{target['id']}")
        key = "created" if created else "duplicate"
        return json_response({key: url, "id": enrollment["id"]}, 201 if created else 200)

    async def unenroll(request: Request) -> Response:
        account.unenroll(request.path_params["id"], request.path_params["contact_id"])
        return json_response([])

    table: list[tuple[str, Handler, str]] = [
        ("/v1/journeys", list_journeys, "GET"),
        ("/v1/journeys/{id}", get_journey, "GET"),
        ("/v1/journeys/{id}/enrollments", list_enrollments, "GET"),
        ("/v1/journeys/{id}/enrollments", enroll, "POST"),
        ("/v1/journeys/{id}/enrollments/{contact_id}", unenroll, "DELETE"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
