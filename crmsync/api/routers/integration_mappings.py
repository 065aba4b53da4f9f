"""``/api/v1/integrations/{id}/mappings`` (read, replace, YAML in and out) and
``/suggest-mappings`` (propose a mapping onto the CRM's own fields)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crmsync import jsonlimits
from crmsync.api.deps import CanReadIntegrations, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routers.integrations import CanManage
from crmsync.api.routing import GuardedRoute
from crmsync.api.suggestions import SuggestIn, remote_suggestions
from crmsync.integrations.service import get_integration
from crmsync.mapping.errors import MappingError, MappingFileError
from crmsync.mapping.model import MappingSet
from crmsync.mapping.yaml_io import mapping_from_yaml, mapping_to_yaml
from crmsync.records.payloads import describe_validation_error
from crmsync.sync.targets import mapping_for, save_mapping

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


@router.get(
    "/{integration_id}/mappings",
    summary="The integration's field mappings",
    responses={
        200: {
            "content": {"application/json": {}, "application/yaml": {}},
            "description": "The mapping, as JSON or (format=yaml) as YAML",
        }
    },
)
def get_mappings(
    principal: CanReadIntegrations,
    db: Db,
    integration_id: uuid.UUID,
    format: Annotated[Literal["json", "yaml"], Query()] = "json",
) -> Response:
    """The provider's default mapping with this integration's changes applied; `format=yaml`
    exports it as a YAML document that `PUT` accepts back."""
    mapping = mapping_for(db, get_integration(db, principal.workspace_id, integration_id))
    if format == "yaml":
        return Response(mapping_to_yaml(mapping), media_type="application/yaml")
    return JSON(mapping.model_dump(mode="json"))


@router.put("/{integration_id}/mappings", summary="Replace the integration's field mappings")
async def put_mappings(
    principal: CanManage, db: Db, request: Request, integration_id: uuid.UUID
) -> JSON:
    """Send a mapping as JSON, or as YAML with `Content-Type: application/yaml`. Every object
    type and status map given replaces the current one; the rest stay as they are. A
    mapping that does not fit (unknown field, missing status map) is a 422 saying where."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        if content_type in YAML_TYPES:
            mapping = mapping_from_yaml(raw.decode("utf-8", errors="replace"))
        else:
            mapping = MappingSet.model_validate(jsonlimits.loads(raw))
    except MappingFileError as exc:
        details = {"line": exc.line, "column": exc.column, "field": exc.field}
        raise ApiError(422, "validation_error", str(exc), details) from None
    except jsonlimits.JsonRefused as exc:
        field = exc.path or "body"
        raise ApiError(
            422, "validation_error", str(exc), [{"field": field, "message": exc.message}]
        ) from None
    except ValidationError as exc:
        # only field and message: an error's input or context may be bytes, NaN or an
        # exception, which no JSON answer can carry
        raise ApiError(
            422, "validation_error", _first(exc), describe_validation_error(exc)
        ) from None
    stored = await run_in_threadpool(_store, db, principal.workspace_id, integration_id, mapping)
    return JSON(stored.model_dump(mode="json"))


def _store(
    db: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID, mapping: MappingSet
) -> MappingSet:
    integration = get_integration(db, workspace_id, integration_id)
    if mapping.provider != integration.provider:
        message = (
            f"this mapping is for {mapping.provider!r}, the integration is {integration.provider!r}"
        )
        raise ApiError(422, "validation_error", message)
    try:
        stored = save_mapping(db, integration, mapping)
    except (MappingError, ValueError) as exc:
        db.rollback()
        raise ApiError(422, "validation_error", str(exc)) from None
    db.commit()
    return stored


@router.post(
    "/{integration_id}/suggest-mappings", summary="Suggest a mapping onto the CRM's fields"
)
def suggest_for_integration(
    principal: CanReadIntegrations,
    db: Db,
    request: Request,
    integration_id: uuid.UUID,
    body: SuggestIn,
) -> JSON:
    """Like `/api/v1/mappings/suggest`, with this CRM's own fields (custom ones included)
    of `object_type` as the targets."""
    return remote_suggestions(db, request, principal.workspace_id, integration_id, body)


def _first(exc: ValidationError) -> str:
    err: Any = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg"))
