"""The ``query`` and ``queryAll`` resources: SOQL in, pages of records out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.cursors import batch_size
from crmsync.sandbox.salesforce.endpoint import Handler, LimitInfo, route
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.query import run_query
from crmsync.sandbox.salesforce.soql import parse

PREFIX = "/services/data/v{version}"


def query_routes(org: Org, limit_info: LimitInfo) -> list[Route]:
    """Routes of ``query``/``queryAll`` and their ``nextRecordsUrl`` pages."""

    def first(resource: str, include_deleted: bool) -> Handler:
        async def handler(request: Request) -> Response:
            soql = request.query_params.get("q")
            if not soql:
                raise errors.malformed_query("A query string must be provided.")
            version = request.path_params["version"]
            query = parse(soql, org.clock().date())
            total, rows = run_query(org.store, query, version, include_deleted)
            batch = batch_size(
                request.headers.get("sforce-query-options"), org.settings.default_batch_size
            )
            path = f"/services/data/v{version}/{resource}"
            return json_response(org.cursors.first_page(total, rows, batch, path))

        return handler

    def more(resource: str) -> Handler:
        async def handler(request: Request) -> Response:
            version = request.path_params["version"]
            path = f"/services/data/v{version}/{resource}"
            return json_response(org.cursors.next_page(request.path_params["locator"], path))

        return handler

    return [
        *route(PREFIX + "/query", limit_info, GET=first("query", False)),
        *route(PREFIX + "/queryAll", limit_info, GET=first("queryAll", True)),
        *route(PREFIX + "/query/{locator}", limit_info, GET=more("query")),
        *route(PREFIX + "/queryAll/{locator}", limit_info, GET=more("queryAll")),
    ]
