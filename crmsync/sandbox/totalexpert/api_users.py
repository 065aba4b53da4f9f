"""The account's users (/v1/users): who can own contacts and notes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import paging
from crmsync.sandbox.totalexpert.api_contacts import Wrap
from crmsync.sandbox.totalexpert.contacts import USERS, find_user
from crmsync.sandbox.totalexpert.errors import json_response, not_found


def routes(wrap: Wrap) -> list[Route]:
    async def list_users(request: Request) -> Response:
        return json_response(paging.page(list(USERS), request.query_params, dict))

    async def get_user(request: Request) -> Response:
        user = find_user({"id": request.path_params["id"]})
        if user is None:
            raise not_found("User")
        return json_response(user)

    return [
        Route("/v1/users", wrap(list_users), methods=["GET"]),
        Route("/v1/users/{id}", wrap(get_user), methods=["GET"]),
    ]
