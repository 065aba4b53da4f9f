"""`/crm/v3/properties/{objectType}`: list, read, create (custom), update, archive."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import SandboxError, json_response
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.crm import HubSpotCrm
from crmsync.sandbox.hubspot.objects import body_of, flag
from crmsync.sandbox.hubspot.properties import NAME, PropertyDef, new_property


def group_names(store: Any) -> list[str]:
    """The object's property groups: those of its properties and those created."""
    return sorted({p.group for p in store.properties.values()} | set(store.groups))


def property_routes(crm: HubSpotCrm) -> list[BaseRoute]:
    """Routes of the properties API."""

    def find(request: Request) -> tuple[Any, PropertyDef]:
        store = crm.store(request.path_params["object_type"])
        name = request.path_params["name"]
        prop = store.properties.get(name)
        if prop is None or (prop.archived and not flag(request, "archived")):
            raise SandboxError(
                errors.error_response(
                    404, "OBJECT_NOT_FOUND", f"Unable to find property {name} on {store.spec.name}"
                )
            )
        return store, prop

    async def list_properties(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        archived = flag(request, "archived")
        props = [p.to_json() for p in store.properties.values() if p.archived == archived]
        return json_response({"results": props})

    async def read(request: Request) -> Response:
        return json_response(find(request)[1].to_json())

    async def create(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        body = await body_of(request)
        prop, problem = new_property(body, crm.now_ms(), frozenset(group_names(store)))
        if prop is None:
            raise errors.validation(problem)
        existing = store.properties.get(prop.name)
        if existing is not None and not existing.archived:
            return errors.error_response(
                409, "OBJECT_ALREADY_EXISTS", f"A property named '{prop.name}' already exists."
            )
        store.add_property(prop)
        return json_response(prop.to_json(), status=201)

    async def update(request: Request) -> Response:
        store, prop = find(request)
        body = await body_of(request)
        if prop.hubspot_defined:
            raise errors.validation(f"Property {prop.name} is HubSpot-defined and cannot change")
        prop.label = str(body.get("label", prop.label))
        prop.description = str(body.get("description", prop.description))
        if "options" in body:
            raw = body["options"] or []
            if not all(isinstance(o, dict) and o.get("label") and o.get("value") for o in raw):
                raise errors.validation("every option needs a label and a value")
            prop.options = tuple(str(o["value"]) for o in raw)
            prop.option_labels = {str(o["value"]): str(o["label"]) for o in raw}
        if "groupName" in body:
            if body["groupName"] not in group_names(store):
                raise errors.validation(f"property group {body['groupName']} does not exist")
            prop.group = str(body["groupName"])
        return json_response(prop.to_json())

    async def archive(request: Request) -> Response:
        store, prop = find(request)
        if prop.hubspot_defined:
            raise errors.validation(
                f"Property {prop.name} is HubSpot-defined and cannot be archived"
            )
        prop.archived = True
        store.properties_changed()
        return Response(status_code=204)

    def group_json(store: Any, name: str, order: int) -> dict[str, Any]:
        label = store.groups.get(name) or name.replace("_", " ").title()
        return {"name": name, "label": label, "displayOrder": order, "archived": False}

    async def groups(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        names = group_names(store)
        return json_response({"results": [group_json(store, n, i) for i, n in enumerate(names)]})

    async def create_group(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        body = await body_of(request)
        name, label = body.get("name"), body.get("label")
        if not isinstance(name, str) or not NAME.match(name) or not label:
            raise errors.validation("name (lowercase letters, digits, _) and label are required")
        if name in group_names(store):
            return errors.error_response(
                409, "OBJECT_ALREADY_EXISTS", f"A property group named '{name}' already exists."
            )
        store.groups[name] = str(label)
        order = int(body.get("displayOrder", -1))
        return json_response(group_json(store, name, order), status=201)

    async def read_group(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        names = group_names(store)
        name = request.path_params["group"]
        if name not in names:
            return errors.error_response(
                404, "OBJECT_NOT_FOUND", f"Unable to find property group {name}"
            )
        return json_response(group_json(store, name, names.index(name)))

    base = "/crm/v3/properties/{object_type}"
    return [
        Route(base, list_properties, methods=["GET"]),
        Route(base, create, methods=["POST"]),
        Route(base + "/groups", groups, methods=["GET"]),
        Route(base + "/groups", create_group, methods=["POST"]),
        Route(base + "/groups/{group}", read_group, methods=["GET"]),
        Route(base + "/{name}", read, methods=["GET"]),
        Route(base + "/{name}", update, methods=["PATCH"]),
        Route(base + "/{name}", archive, methods=["DELETE"]),
    ]
