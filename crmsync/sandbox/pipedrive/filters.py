"""Saved filters (`/v1/filters`), `filter_id` on lists, and the company's users
(`/v1/users`).

A filter holds Pipedrive's condition tree: ``{"glue": "and", "conditions": [{"glue":
"and", "conditions": [...]}, {"glue": "or", "conditions": [...]}]}`` whose leaves are
``{"object", "field_id", "operator", "value", "extra_value"}``; ``field_id`` is the id of
a field of the entity's *Fields list. Lists given ``filter_id`` keep the records the
filter matches; an unknown filter, or one of another entity, is refused (never ignored).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import read_json
from crmsync.sandbox.pipedrive.envelope import PipedriveError, ok
from crmsync.sandbox.pipedrive.fields import FieldRegistry
from crmsync.sandbox.pipedrive.kinds import ACTIVITY, DEAL, LEAD, ORGANIZATION, PERSON, Kind
from crmsync.sandbox.pipedrive.render import USER, v1_time

# filter `type` -> entity, and the `object` its conditions name
TYPES: dict[str, tuple[Kind, str]] = {
    "people": (PERSON, "person"),
    "org": (ORGANIZATION, "organization"),
    "deals": (DEAL, "deal"),
    "activity": (ACTIVITY, "activity"),
    "leads": (LEAD, "lead"),
}
OPERATORS = (
    "=", "!=", "<", ">", "<=", ">=", "IS NULL", "IS NOT NULL",
    "LIKE '$%'", "LIKE '%$%'", "LIKE '%$'", "NOT LIKE '$%'", "NOT LIKE '%$%'", "NOT LIKE '%$'",
)  # fmt: skip
USERS = (
    USER,
    {"id": 2, "name": "Sandbox Agent", "email": "agent@sandbox.example"},
)

Test = Callable[[dict[str, Any]], bool]


@dataclass
class Filters:
    """The company's saved filters."""

    fields: FieldRegistry
    clock: Callable[[], float]
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self.lock:
            self.items.clear()
            self._ids = itertools.count(1)

    def save(self, body: Any, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise PipedriveError(400, "Request body must be a JSON object")
        name = body.get("name", existing and existing["name"])
        kind_name = existing["type"] if existing else body.get("type")
        conditions = body.get("conditions", existing and existing["conditions"])
        if not isinstance(name, str) or not name.strip():
            raise PipedriveError(400, "Name must be given.")
        if kind_name not in TYPES:
            raise PipedriveError(400, f"Type must be one of: {', '.join(TYPES)}")
        self.compile(kind_name, conditions)  # refuse a filter that could not run
        now = v1_time(self.clock())
        with self.lock:
            saved = existing or {"id": next(self._ids), "add_time": now, "user_id": USER["id"]}
            saved.update(
                name=name, type=kind_name, conditions=conditions, active_flag=True,
                visible_to="1", update_time=now, custom_view_id=None,
            )  # fmt: skip
            self.items[saved["id"]] = saved
            return saved

    def get(self, filter_id: Any) -> dict[str, Any]:
        try:
            found = self.items.get(int(filter_id))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise PipedriveError(404, "Filter not found")
        return found

    def apply(self, kind: Kind, filter_id: str | None, records: Iterable[Any]) -> list[Any]:
        """`records` the saved filter keeps; 400 for a filter of another entity."""
        if not filter_id:
            return list(records)
        try:
            saved = self.get(filter_id)
        except PipedriveError:
            raise PipedriveError(400, f"Filter {filter_id} not found") from None
        if TYPES[saved["type"]][0] is not kind:
            raise PipedriveError(400, f"Filter {filter_id} is not a {kind.singular} filter")
        test = self.compile(saved["type"], saved["conditions"])
        return [r for r in records if test(r)]

    def compile(self, kind_name: str, tree: Any) -> Test:
        kind, object_name = TYPES[kind_name]
        by_id = {str(f["id"]): f for f in self.fields.listing(kind)}

        def node(part: Any) -> Test:
            if not isinstance(part, dict):
                raise PipedriveError(400, "Invalid filter conditions")
            if "conditions" in part:
                glue = part.get("glue")
                if glue not in ("and", "or") or not isinstance(part["conditions"], list):
                    raise PipedriveError(400, "Invalid filter conditions: glue is and/or")
                tests = [node(p) for p in part["conditions"]]
                if glue == "and":
                    return lambda r: all(t(r) for t in tests)
                return lambda r: not tests or any(t(r) for t in tests)
            return leaf(part)

        def leaf(cond: dict[str, Any]) -> Test:
            definition = by_id.get(str(cond.get("field_id")))
            if cond.get("object") != object_name or definition is None:
                raise PipedriveError(400, f"Invalid filter condition field {cond.get('field_id')}")
            operator = cond.get("operator")
            if operator not in OPERATORS:
                raise PipedriveError(400, f"Invalid filter operator {operator!r}")
            key, custom = definition["key"], definition["edit_flag"]
            return _test(lambda r: _value(r, key, custom), str(operator), cond.get("value"))

        return node(tree)


def _value(record: dict[str, Any], key: str, custom: bool) -> Any:
    value = record.get("custom_fields", {}).get(key) if custom else record.get(key)
    if key in ("email", "phone") and not custom:
        entries = record.get(f"{key}s") or []
        value = next((e["value"] for e in entries if e.get("primary")), None)
    if isinstance(value, dict) and "value" in value:
        value = value["value"]  # monetary
    return value


def _test(get: Callable[[dict[str, Any]], Any], operator: str, wanted: Any) -> Test:
    if operator == "IS NULL":
        return lambda r: get(r) in (None, "", [])
    if operator == "IS NOT NULL":
        return lambda r: get(r) not in (None, "", [])
    if "LIKE" in operator:
        needle = str(wanted or "").lower()
        pattern = operator.split("'")[1]
        negate = operator.startswith("NOT")

        def like(r: dict[str, Any]) -> bool:
            text = str(get(r) or "").lower()
            hit = (
                text.startswith(needle)
                if pattern == "$%"
                else text.endswith(needle)
                if pattern == "%$"
                else needle in text
            )
            return hit != negate

        return like

    def compare(r: dict[str, Any]) -> bool:
        value = get(r)
        if value is None:
            return operator == "!="
        left, right = _comparable(value, wanted)
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
        }[operator]

    return compare


def _comparable(value: Any, wanted: Any) -> tuple[Any, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return value, float(wanted)
        except (TypeError, ValueError):
            return str(value), str(wanted)
    return str(value).lower(), str(wanted).lower()


def filter_routes(filters: Filters, wrap: Callable[[Any], Any]) -> list[Route]:
    """``/v1/filters`` CRUD and ``/v1/users``."""

    async def listing(request: Request) -> Response:
        wanted = request.query_params.get("type")
        rows = [f for f in filters.items.values() if wanted in (None, f["type"])]
        return ok(rows)

    async def create(request: Request) -> Response:
        return ok(filters.save(await read_json(request)))

    async def one(request: Request) -> Response:
        return ok(filters.get(request.path_params["id"]))

    async def update(request: Request) -> Response:
        existing = filters.get(request.path_params["id"])
        return ok(filters.save(await read_json(request), existing))

    async def delete(request: Request) -> Response:
        gone = filters.get(request.path_params["id"])
        with filters.lock:
            filters.items.pop(gone["id"], None)
        return ok({"id": gone["id"]})

    async def users(request: Request) -> Response:
        return ok([_user(u) for u in USERS])

    async def user(request: Request) -> Response:
        wanted = int(request.path_params["id"])
        found = next((u for u in USERS if u["id"] == wanted), None)
        if found is None:
            raise PipedriveError(404, "User not found")
        return ok(_user(found))

    table: list[tuple[str, Any, list[str]]] = [
        ("/v1/filters", listing, ["GET"]),
        ("/v1/filters", create, ["POST"]),
        ("/v1/filters/{id:int}", one, ["GET"]),
        ("/v1/filters/{id:int}", update, ["PUT"]),
        ("/v1/filters/{id:int}", delete, ["DELETE"]),
        ("/v1/users", users, ["GET"]),
        ("/v1/users/{id:int}", user, ["GET"]),
    ]
    return [Route(path, wrap(fn), methods=methods) for path, fn, methods in table]


def _user(user: dict[str, Any]) -> dict[str, Any]:
    return {
        **user,
        "active_flag": True,
        "is_admin": 1 if user["id"] == USER["id"] else 0,
        "role_id": 1,
        "timezone_name": "UTC",
        "default_currency": "USD",
        "locale": "en_US",
        "lang": 1,
    }
