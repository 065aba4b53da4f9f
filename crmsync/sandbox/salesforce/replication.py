"""The replication resources: ids of records changed in a window (``updated``) and
of records deleted in it (``deleted``), as integrations poll them.

Windows are whole minutes: start and end are truncated to the minute, the end is
capped at now and reported as ``latestDateCovered``; the start may be at most
`OrgSettings.updated_window_days` back, and deletions are listed for
`deleted_retention_days` (``earliestDateAvailable``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.endpoint import LimitInfo, route
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.values import format_datetime, now_seconds, parse_datetime

PREFIX = "/services/data/v{version}/sobjects/{sobject}"


def replication_routes(org: Org, limit_info: LimitInfo) -> list[Route]:
    """Routes of ``updated`` and ``deleted`` bound to `org`."""
    store = org.store

    async def updated(request: Request) -> Response:
        kind = store.sobject(request.path_params["sobject"])
        start, end = _window(request, org.clock(), org.settings.updated_window_days)
        with store.lock:
            ids = [r["Id"] for r in store.rows(kind.name) if start <= r["SystemModstamp"] < end]
        return json_response({"ids": ids, "latestDateCovered": format_datetime(end)})

    async def deleted(request: Request) -> Response:
        kind = store.sobject(request.path_params["sobject"])
        now = org.clock()
        start, end = _window(request, now, org.settings.updated_window_days)
        earliest = max(
            store.created, _minute(now - timedelta(days=org.settings.deleted_retention_days))
        )
        with store.lock:
            gone = sorted(
                (store.deleted_at[r["Id"]], r["Id"])
                for r in store.rows(kind.name, include_deleted=True)
                if r["IsDeleted"] and max(start, earliest) <= store.deleted_at[r["Id"]] < end
            )
        return json_response(
            {
                "deletedRecords": [{"id": i, "deletedDate": format_datetime(d)} for d, i in gone],
                "earliestDateAvailable": format_datetime(earliest),
                "latestDateCovered": format_datetime(end),
            }
        )

    return [
        *route(PREFIX + "/updated", limit_info, GET=updated),
        *route(PREFIX + "/deleted", limit_info, GET=deleted),
    ]


def _minute(value: datetime) -> datetime:
    return now_seconds(value).replace(second=0)


def _window(request: Request, now: datetime, max_days: int) -> tuple[datetime, datetime]:
    """The [start, end) of an updated/deleted call, truncated to whole minutes."""
    params = request.query_params
    if "start" not in params or "end" not in params:
        raise errors.ApiError(400, "MISSING_ARGUMENT", "start and end must be specified")
    try:
        # A '+' in an unencoded offset arrives as a space.
        start = parse_datetime(params["start"].replace(" ", "+"))
        end = parse_datetime(params["end"].replace(" ", "+"))
    except ValueError as exc:
        raise errors.ApiError(400, "INVALID_REPLICATION_DATE", str(exc)) from None
    start, end = _minute(start), _minute(min(end, now))
    if start < _minute(now - timedelta(days=max_days)):
        raise errors.ApiError(
            400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {max_days} days ago"
        )
    if end < start:
        raise errors.ApiError(
            400, "INVALID_REPLICATION_DATE", "EndDate must chronologically follow the StartDate"
        )
    return start, end
