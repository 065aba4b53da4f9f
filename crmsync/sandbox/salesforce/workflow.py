"""Tooling API ``WorkflowOutboundMessage`` and ``WorkflowRule``: the Outbound Message an
org sends and the rule that sends it, as an admin (or a setup tool) defines them.

``POST /tooling/sobjects/WorkflowOutboundMessage`` takes ``FullName``
(``Object.Name``) and ``Metadata`` (``endpointUrl``, ``fields``, ``integrationUser``,
``name``, ``includeSessionId``, ``protected``); ``WorkflowRule`` takes ``Metadata`` with
``active``, ``triggerType`` and ``actions`` (``[{"name", "type": "OutboundMessage"}]``).
Both answer a SaveResult, ``GET|PATCH|DELETE …/{id}`` read, change and remove one, and
``GET /tooling/query?q=SELECT … FROM <type> [WHERE Name = '…']`` lists them. An edit
made in the org (``user_change``) then posts the message of every active rule on its
object to the message's endpoint, with the message's fields only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.endpoint import LimitInfo, json_object, no_content, route
from crmsync.sandbox.salesforce.ids import IdFactory
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.webhooks import loopback_url

TOOLING = "/services/data/v{version}/tooling"
_FULL_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)$")
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>[\w\s,]+?)\s+FROM\s+(?P<type>\w+)"
    r"(?:\s+WHERE\s+Name\s*=\s*'(?P<name>[^']*)')?\s*$",
    re.IGNORECASE,
)
TYPES = ("WorkflowOutboundMessage", "WorkflowRule")
_PREFIX = {"WorkflowOutboundMessage": "04k", "WorkflowRule": "01Q"}


@dataclass
class Definition:
    """One outbound message or rule."""

    id: str
    type: str
    sobject: str
    name: str
    metadata: dict[str, Any]

    def to_json(self, version: str) -> dict[str, Any]:
        url = f"/services/data/v{version}/tooling/sobjects/{self.type}/{self.id}"
        return {
            "attributes": {"type": self.type, "url": url},
            "Id": self.id,
            "Name": self.name,
            "FullName": f"{self.sobject}.{self.name}",
            "TableEnumOrId": self.sobject,
            "Metadata": self.metadata,
        }


@dataclass
class Workflows:
    """The org's outbound messages and rules."""

    ids: IdFactory = field(default_factory=IdFactory)
    items: dict[str, Definition] = field(default_factory=dict)

    def named(self, kind: str, sobject: str, name: str) -> Definition | None:
        return next(
            (
                d
                for d in self.items.values()
                if d.type == kind and d.sobject == sobject and d.name == name
            ),
            None,
        )

    def deliveries(self, sobject: str) -> list[Definition]:
        """The outbound messages the active rules on ``sobject`` send."""
        out = []
        for rule in self.items.values():
            if rule.type != "WorkflowRule" or rule.sobject != sobject:
                continue
            if not rule.metadata.get("active"):
                continue
            for action in rule.metadata.get("actions") or []:
                message = self.named("WorkflowOutboundMessage", sobject, str(action.get("name")))
                if message is not None and action.get("type") == "OutboundMessage":
                    out.append(message)
        return out

    def clear(self) -> None:
        self.items.clear()


def _integrity(message: str) -> errors.ApiError:
    return errors.ApiError(400, "FIELD_INTEGRITY_EXCEPTION", message)


def _check(org: Org, workflows: Workflows, kind: str, sobject: str, meta: dict[str, Any]) -> None:
    if kind == "WorkflowOutboundMessage":
        if not loopback_url(meta.get("endpointUrl")):
            raise _integrity("endpointUrl: an http(s) URL on this machine (sandbox)")
        fields = meta.get("fields")
        if not isinstance(fields, list) or not fields:
            raise _integrity("fields: the fields to send are required")
        kind_of = org.store.sobject(sobject)
        unknown = [f for f in fields if kind_of.field(str(f)) is None]
        if unknown:
            raise errors.no_such_column(str(unknown[0]), sobject)
        return
    for action in meta.get("actions") or []:
        if not isinstance(action, dict) or action.get("type") != "OutboundMessage":
            raise _integrity("actions: only OutboundMessage actions are emulated")
        if workflows.named("WorkflowOutboundMessage", sobject, str(action.get("name"))) is None:
            raise _integrity(f"actions: no outbound message {action.get('name')} on {sobject}")


def workflow_routes(org: Org, workflows: Workflows, limit_info: LimitInfo) -> list[Route]:
    def kind_of(request: Request) -> str:
        kind = request.path_params["kind"]
        if kind not in TYPES:
            raise errors.not_found()
        return str(kind)

    def one(request: Request) -> Definition:
        found = workflows.items.get(request.path_params["item_id"])
        if found is None or found.type != kind_of(request):
            raise errors.not_found()
        return found

    async def create(request: Request) -> Response:
        kind = kind_of(request)
        body = await json_object(request)
        match = _FULL_NAME.match(str(body.get("FullName") or ""))
        meta = body.get("Metadata")
        if match is None or not isinstance(meta, dict):
            raise errors.invalid_field("FullName (Object.Name) and Metadata are required")
        sobject = org.store.sobject(match.group(1)).name
        if workflows.named(kind, sobject, match.group(2)) is not None:
            raise errors.ApiError(
                400, "DUPLICATE_DEVELOPER_NAME", f"{kind} {match.group(2)} already exists"
            )
        _check(org, workflows, kind, sobject, meta)
        item = Definition(workflows.ids.new(_PREFIX[kind]), kind, sobject, match.group(2), meta)
        workflows.items[item.id] = item
        return json_response({"id": item.id, "success": True, "errors": []}, status=201)

    async def read(request: Request) -> Response:
        return json_response(one(request).to_json(request.path_params["version"]))

    async def update(request: Request) -> Response:
        item = one(request)
        meta = (await json_object(request)).get("Metadata")
        if not isinstance(meta, dict):
            raise errors.invalid_field("Metadata is required")
        _check(org, workflows, item.type, item.sobject, meta)
        item.metadata = meta
        return no_content()

    async def delete(request: Request) -> Response:
        del workflows.items[one(request).id]
        return no_content()

    async def query(request: Request) -> Response:
        match = _QUERY.match(request.query_params.get("q", ""))
        if match is None or match.group("type") not in TYPES:
            raise errors.malformed_query(
                "the sandbox's Tooling query takes SELECT … FROM "
                "WorkflowOutboundMessage|WorkflowRule [WHERE Name = '…']"
            )
        version = request.path_params["version"]
        rows = [
            d.to_json(version)
            for d in workflows.items.values()
            if d.type == match.group("type") and match.group("name") in (None, d.name)
        ]
        return json_response(
            {"size": len(rows), "totalSize": len(rows), "done": True, "records": rows}
        )

    base = TOOLING + "/sobjects/{kind}"
    return [
        *route(TOOLING + "/query", limit_info, GET=query),
        *route(base, limit_info, POST=create),
        *route(base + "/{item_id}", limit_info, GET=read, PATCH=update, DELETE=delete),
    ]
