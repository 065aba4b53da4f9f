"""``GET /services/oauth2/userinfo``: the OpenID Connect user info of the session's user.

Answers ``sub`` (the identity URL), ``user_id``, ``organization_id``,
``preferred_username`` and ``email``; a missing or invalid token answers 403
``Bad_OAuth_Token`` as plain text, as Salesforce does. Setup reads the org id here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce.oauth import PREFIX, instance_url
from crmsync.sandbox.salesforce.org import Org


def identity_routes(org: Org) -> list[Route]:
    async def userinfo(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not org.tokens.is_valid(token.strip()):
            return PlainTextResponse("Bad_OAuth_Token", status_code=403)
        user = org.api_user
        return json_response(
            {
                "sub": f"{instance_url(request)}/id/{org.org_id}/{user}",
                "user_id": user,
                "organization_id": org.org_id,
                "preferred_username": "integration@sandbox.example",
                "email": "integration@sandbox.example",
                "email_verified": True,
                "name": "Integration User",
                "user_type": "STANDARD",
                "active": True,
            }
        )

    return [Route(PREFIX + "/userinfo", userinfo, methods=["GET", "POST"])]
