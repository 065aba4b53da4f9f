"""``/api/v1/{contacts,companies,properties,leads,deals,activities,notes,tickets}``: one router
per type.

No ``from __future__ import annotations`` here: FastAPI must see the per-type body
schemas, which are local variables, as real annotations.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Body, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy.orm import Session

from crmsync.api.deps import CanDeleteRecords, CanReadRecords, CanWriteRecords, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.records import filters, service
from crmsync.records.errors import RecordInvalid
from crmsync.records.links import links_of
from crmsync.records.payloads import singular, to_dict
from crmsync.records.schemas import CREATE_SCHEMAS, PATCH_SCHEMAS, RecordIn, UtcDatetime

SOURCE = "api"


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Any] = Field(
        max_length=service.MAX_BATCH,
        description="Records to upsert. An item matches an existing record by `external_ref`, "
        "else (contacts) by normalised email; otherwise it is created.",
    )


class ItemResultOut(BaseModel):
    index: int
    status: str = Field(description="created | updated | error")
    id: uuid.UUID | None = None
    error: str | None = None


class BatchOut(BaseModel):
    results: list[ItemResultOut]


class LinkOut(BaseModel):
    integration_id: uuid.UUID
    integration_name: str
    provider: str
    remote_id: str | None = Field(description="the record's id in the CRM; null until linked")
    last_synced_at: datetime | None
    last_error: str | None = Field(description="why the last push failed, if it did since")
    last_error_at: datetime | None


IncludeParam = Annotated[
    str | None,
    Query(
        max_length=100,
        description="`links`: add each record's links (integration, remote id, last synced "
        "at, last error).",
    ),
]
INCLUDES = frozenset({"links"})
# the list's own parameters; anything else must be one of its type's filters
LIST_PARAMS = frozenset({"limit", "cursor", "updated_since", "q", "include_deleted", "include"})


def parse_include(include: str | None) -> frozenset[str]:
    """The parts asked for in ``include`` (comma-separated); 422 naming an unknown one."""
    wanted = frozenset(p.strip() for p in (include or "").split(",") if p.strip())
    unknown = sorted(wanted - INCLUDES)
    if unknown:
        message = f"unknown part {unknown[0]!r}; known: {', '.join(sorted(INCLUDES))}"
        raise RecordInvalid(f"include: {message}", [{"field": "include", "message": message}])
    return wanted


def answer_items(
    db: Session, workspace_id: uuid.UUID, record_type: str, rows: list[Any], include: frozenset[str]
) -> list[dict[str, Any]]:
    """Records as the API shows them, with their links when ``include`` asks for them."""
    items = [to_dict(r) for r in rows]
    if "links" in include:
        found = links_of(db, workspace_id, record_type, [item["id"] for item in items])
        for item in items:
            item["links"] = found.get(item["id"], [])
    return items


def _filter_parameters(record_type: str) -> list[dict[str, Any]]:
    """The type's filters as OpenAPI query parameters (parsed by ``records.filters``)."""
    out = []
    for spec in filters.filters_of(record_type):
        schema: dict[str, Any] = {"type": "string"}
        if spec.is_id:
            schema["format"] = "uuid"
        elif spec.choices is not None:
            schema["enum"] = [c.value for c in spec.choices]
        else:
            schema["maxLength"] = spec.max_length
        out.append(
            {"name": spec.name, "in": "query", "required": False, "schema": schema,
             "description": spec.description}
        )  # fmt: skip
    return out


def _is_decimal(annotation: Any) -> bool:
    return Decimal in get_args(annotation) or any(
        Decimal in get_args(arg) for arg in get_args(annotation)
    )


def _out_model(record_type: str, schema: type[RecordIn]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "id": (uuid.UUID, ...),
        "version": (int, ...),
        "created_at": (datetime, ...),
        "updated_at": (datetime, ...),
        "deleted_at": (datetime | None, None),
    }
    for name, info in PATCH_SCHEMAS[record_type].model_fields.items():
        # amounts are Decimal inside and JSON numbers on the wire (responses.JSON)
        wire = float | None if _is_decimal(info.annotation) else info.annotation
        fields[name] = (wire, Field(None, title=info.title, description=info.description))
    fields["links"] = (list[LinkOut] | None, Field(None, description="with `?include=links`"))
    name = schema.__name__.removesuffix("In")
    return create_model(name, **fields)


def build_router(record_type: str) -> APIRouter:
    create_schema: Any = CREATE_SCHEMAS[record_type]
    patch_schema: Any = PATCH_SCHEMAS[record_type]
    out = _out_model(record_type, create_schema)
    page = create_model(
        f"{out.__name__}Page",
        items=(list[out], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, None),
    )
    one = singular(record_type)
    router = APIRouter(
        route_class=GuardedRoute, prefix=f"{API_PREFIX}/{record_type}", tags=[record_type]
    )

    @router.get(
        "",
        response_model=page,
        summary=f"List {record_type}",
        openapi_extra={"parameters": _filter_parameters(record_type)},
    )
    def list_(
        request: Request,
        principal: CanReadRecords,
        db: Db,
        limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 100,
        cursor: str | None = None,
        updated_since: UtcDatetime | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        include_deleted: bool = False,
        include: IncludeParam = None,
    ) -> JSON:
        """Keyset-paged by last change: pass `next_cursor` back as `cursor` for the next page.
        Filters narrow the list (each type its own); an unknown parameter is refused."""
        parts = parse_include(include)
        wanted = filters.parse(record_type, request.query_params.multi_items(), LIST_PARAMS)
        rows, next_cursor = service.list_records(
            db,
            principal.workspace_id,
            record_type,
            limit=limit,
            cursor=cursor,
            updated_since=updated_since,
            q=q,
            include_deleted=include_deleted,
            filters=wanted,
        )
        items = answer_items(db, principal.workspace_id, record_type, rows, parts)
        return JSON({"items": items, "next_cursor": next_cursor})

    @router.post("", response_model=out, status_code=201, summary=f"Create a {one}")
    def create(principal: CanWriteRecords, db: Db, body: create_schema) -> JSON:
        record = service.create_record(
            db, principal.workspace_id, record_type, body.model_dump(exclude_unset=True), SOURCE
        )
        db.commit()
        return JSON(to_dict(record), status_code=status.HTTP_201_CREATED)

    @router.post("/batch", response_model=BatchOut, summary=f"Upsert up to 1,000 {record_type}")
    def batch(principal: CanWriteRecords, db: Db, body: BatchIn) -> JSON:
        """All items commit together; each gets its own result, and invalid ones are skipped."""
        results = service.upsert_records(
            db, principal.workspace_id, record_type, body.items, SOURCE
        )
        db.commit()
        return JSON({"results": [r.__dict__ for r in results]})

    @router.get("/{record_id}", response_model=out, summary=f"Get a {one}")
    def get(
        principal: CanReadRecords, db: Db, record_id: uuid.UUID, include: IncludeParam = None
    ) -> JSON:
        parts = parse_include(include)
        record = service.get_record(db, principal.workspace_id, record_type, record_id)
        return JSON(answer_items(db, principal.workspace_id, record_type, [record], parts)[0])

    @router.patch("/{record_id}", response_model=out, summary=f"Change a {one}")
    def patch(
        principal: CanWriteRecords,
        db: Db,
        record_id: uuid.UUID,
        body: Annotated[patch_schema, Body()],
        include: IncludeParam = None,
    ) -> JSON:
        """Only the fields sent change; `null` clears a field."""
        parts = parse_include(include)
        record = service.update_record(
            db,
            principal.workspace_id,
            record_type,
            record_id,
            body.model_dump(exclude_unset=True),
            SOURCE,
        )
        db.commit()
        return JSON(answer_items(db, principal.workspace_id, record_type, [record], parts)[0])

    @router.delete("/{record_id}", status_code=204, summary=f"Delete a {one} (soft)")
    def delete(principal: CanDeleteRecords, db: Db, record_id: uuid.UUID) -> None:
        service.delete_record(db, principal.workspace_id, record_type, record_id, SOURCE)
        db.commit()

    return router


routers = [build_router(t) for t in CREATE_SCHEMAS]
