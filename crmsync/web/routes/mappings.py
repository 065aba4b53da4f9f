"""An integration's field mapping: each object type's fields (canonical field, CRM
property, type, direction) and status maps, edited as the YAML document the API and CLI
take (``PUT /api/v1/integrations/{id}/mappings`` with ``application/yaml``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync.integrations.service import get_integration
from crmsync.mapping.errors import MappingError
from crmsync.mapping.yaml_io import mapping_from_yaml, mapping_to_yaml
from crmsync.sync.targets import mapping_for, save_mapping
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationManager, IntegrationReader, WebRoute
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX
from crmsync.web.sessions import SignedIn

router = APIRouter(
    route_class=WebRoute, prefix=f"{UI_PREFIX}/integrations", include_in_schema=False
)
MAX_YAML = 200_000


@router.get("/{integration_id}/mapping")
def mapping_page(
    request: Request, user: IntegrationReader, db: Db, integration_id: uuid.UUID
) -> Response:
    integration = get_integration(db, user.workspace_id, integration_id)
    mapping = mapping_for(db, integration)
    return page(
        request,
        "mapping.html",
        {"integration": integration, "mapping": mapping, "yaml": mapping_to_yaml(mapping)},
    )


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
        "integration": integration,
        "mapping": mapping_for(db, integration),
        "yaml": document,  # what the person typed, to fix
        "error": message,
    }
    return page(request, "mapping.html", context, status=422)
