"""An integration's field mapping: each object type's fields (canonical field, CRM
property, type, direction) and status maps, edited with a form (with suggestions from
the CRM's own fields, read as ``/api/v1/integrations/{id}/suggest-mappings`` reads
them) or as the YAML document the API and CLI take (``PUT
/api/v1/integrations/{id}/mappings`` with ``application/yaml``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from crmsync.connectors.errors import ConnectorError
from crmsync.integrations.service import get_integration
from crmsync.mapping.direction import Direction
from crmsync.mapping.errors import MappingError
from crmsync.mapping.model import MappingSet
from crmsync.mapping.schema import CANONICAL_SCHEMA, FieldType, ObjectType
from crmsync.mapping.yaml_io import mapping_from_yaml, mapping_to_yaml
from crmsync.store.models import Integration
from crmsync.sync.targets import mapping_for, save_mapping, targets_of
from crmsync.web import mapping_form
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationManager, IntegrationReader, WebRoute
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX
from crmsync.web.sessions import SignedIn

router = APIRouter(
    route_class=WebRoute, prefix=f"{UI_PREFIX}/integrations", include_in_schema=False
)
MAX_YAML = 200_000


def _context(
    request: Request,
    db: Db,
    integration: Integration,
    mapping: MappingSet,
    suggest: str = "",
) -> dict[str, object]:
    """The page's rows: per object type new rows, suggested ones for ``suggest``."""
    new_rows: dict[str, list[mapping_form.NewRow]] = {}
    remote_names: dict[str, list[str]] = {}
    notice = None
    for object_type in mapping.objects:
        rows = mapping_form.blank_rows(object_type)
        if suggest == object_type.value:
            try:
                remote = targets_of(request.app).connector(integration).describe(suggest)
            except ConnectorError as exc:
                notice = f"Could not read the CRM's fields: {exc.message}"
            else:
                rows = mapping_form.suggested_rows(mapping, object_type, remote) + rows
                remote_names[suggest] = sorted(f.name for f in remote if not f.read_only)
                if len(rows) == mapping_form.BLANK_ROWS:
                    notice = f"No CRM field looks like an unmapped {suggest} field."
        new_rows[object_type.value] = rows
    return {
        "integration": integration,
        "mapping": mapping,
        "yaml": mapping_to_yaml(mapping),
        "new_rows": new_rows,
        "remote_names": remote_names,
        "canonical": {o.value: sorted(CANONICAL_SCHEMA[o]) for o in mapping.objects},
        "types": [t.value for t in FieldType],
        "directions": [d.value for d in Direction],
        "notice": notice,
    }


@router.get("/{integration_id}/mapping")
def mapping_page(
    request: Request, user: IntegrationReader, db: Db, integration_id: uuid.UUID, suggest: str = ""
) -> Response:
    integration = get_integration(db, user.workspace_id, integration_id)
    mapping = mapping_for(db, integration)
    if suggest and suggest not in {o.value for o in ObjectType}:
        suggest = ""
    return page(request, "mapping.html", _context(request, db, integration, mapping, suggest))


@router.post("/{integration_id}/mapping/form")
async def save_form(
    request: Request, user: IntegrationManager, db: Db, integration_id: uuid.UUID
) -> Response:
    """The form editor: the mapping's rows changed, removed or added."""
    form = await request.form()

    def apply() -> dict[str, object] | None:  # the database work off the event loop
        integration = get_integration(db, user.workspace_id, integration_id)
        current = mapping_for(db, integration)
        try:
            save_mapping(db, integration, mapping_form.from_form(current, form))
        except MappingError as exc:
            db.rollback()
            return {**_context(request, db, integration, current), "form_error": str(exc)}
        db.commit()
        return None

    refused = await run_in_threadpool(apply)
    if refused is not None:
        return page(request, "mapping.html", refused, status=422)
    return redirect(f"{UI_PREFIX}/integrations/{integration_id}/mapping", "Mapping saved.")


@router.post("/{integration_id}/mapping")
def save(
    request: Request,
    user: IntegrationManager,
    db: Db,
    integration_id: uuid.UUID,
    document: Annotated[str, Form(max_length=MAX_YAML)],
) -> Response:
    integration = get_integration(db, user.workspace_id, integration_id)
    try:
        mapping = mapping_from_yaml(document)
        if mapping.provider != integration.provider:
            raise MappingError(
                f"provider: this mapping is for {mapping.provider!r}, "
                f"the integration is {integration.provider!r}"
            )
        save_mapping(db, integration, mapping)
    except (MappingError, ValueError) as exc:  # a MappingFileError names its line
        db.rollback()
        return _refused(request, integration_id, db, user, document, str(exc))
    db.commit()
    return redirect(f"{UI_PREFIX}/integrations/{integration_id}/mapping", "Mapping saved.")


def _refused(
    request: Request,
    integration_id: uuid.UUID,
    db: Db,
    user: SignedIn,
    document: str,
    message: str,
) -> Response:
    integration = get_integration(db, user.workspace_id, integration_id)
    context = {
        **_context(request, db, integration, mapping_for(db, integration)),
        "yaml": document,  # what the person typed, to fix
        "error": message,
    }
    return page(request, "mapping.html", context, status=422)
