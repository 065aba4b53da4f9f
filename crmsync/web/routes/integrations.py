"""Integrations: the list, one integration (status, settings, test, sync now, its runs),
and adding one with credentials or by OAuth. The OAuth state belongs to the signed-in
user; the provider's callback (``/api/v1/oauth/{provider}/callback``) comes back to the
integration's page with a message."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmsync.connectors.spec import ProviderSpec
from crmsync.integrations import connection, oauth, service
from crmsync.integrations.config import ConflictPolicy, ObjectSync, SyncConfig
from crmsync.integrations.keys import vault_for
from crmsync.integrations.providers import provider, specs
from crmsync.integrations.schemas import IntegrationCreate, IntegrationPatch
from crmsync.mapping.direction import SyncDirection
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import Integration, IntegrationStatus
from crmsync.sync import manual
from crmsync.web import queries
from crmsync.web.deps import Db, settings_of, wiring_of
from crmsync.web.guard import (
    IntegrationManager,
    IntegrationReader,
    SyncOperator,
    WebRoute,
    form_text,
)
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(
    route_class=WebRoute, prefix=f"{UI_PREFIX}/integrations", include_in_schema=False
)
OBJECTS = ("contacts", "companies", "deals", "leads")


@router.get("")
def integration_list(request: Request, user: IntegrationReader, db: Db) -> Response:
    found = service.list_integrations(db, user.workspace_id)
    return page(request, "integrations.html", {"integrations": found})


@router.get("/new")
def new_integration(
    request: Request, user: IntegrationManager, provider_name: str = ""
) -> Response:
    spec = provider(provider_name) if provider_name else None
    return page(
        request,
        "integration_new.html",
        {
            "providers": list(specs().values()),
            "spec": spec,
            "credential_names": sorted(spec.allowed) if spec else [],
            "objects": OBJECTS,
            "oauth_ready": spec is not None and _oauth_ready(request, spec),
        },
    )


def _oauth_ready(request: Request, spec: ProviderSpec) -> bool:
    """The provider has a consent page and this server has its OAuth app's credentials."""
    client_id, secret = connection.client_credentials(settings_of(request), spec.name)
    return spec.oauth is not None and bool(client_id) and secret is not None


def _sync_config(form: FormData, types: tuple[str, ...] = OBJECTS) -> SyncConfig:
    directions = {d.value for d in SyncDirection} - {SyncDirection.NONE.value}
    objects = {
        o: SyncDirection(value)
        for o in types
        if (value := form_text(form, f"direction_{o}", SyncDirection.NONE.value)) in directions
    }
    if not objects:
        raise RecordInvalid("objects: choose a direction for at least one object type")
    return SyncConfig(objects=objects)


def _types(config: SyncConfig) -> tuple[str, ...]:
    """The object types the settings form shows: the usual ones and any other configured."""
    return OBJECTS + tuple(o for o in config.objects if o not in OBJECTS)


def _scheduled(form: FormData, before: SyncConfig) -> dict[str, SyncDirection | ObjectSync]:
    """The form's direction and schedule per object type, over what was stored (its batch
    size and attempts stay); a type synced in real time with nothing else set is stored as
    its bare direction."""
    out: dict[str, SyncDirection | ObjectSync] = {}
    for object_type, direction in _sync_config(form, _types(before)).objects.items():
        assert isinstance(direction, SyncDirection)  # the form gives bare directions
        schedule = form_text(form, f"schedule_{object_type}").strip()
        try:
            chosen = before.sync_of(object_type).model_copy(
                update={"direction": direction, "frequency": schedule or None}
            )
            chosen = ObjectSync.model_validate(chosen.model_dump())  # the schedule checked
        except ValidationError as exc:
            raise RecordInvalid(f"schedule of {object_type}: {exc.errors()[0]['msg']}") from None
        plain = (chosen.frequency, chosen.batch_size, chosen.attempts) == (None, None, None)
        out[object_type] = direction if plain else chosen
    return out


@router.post("")
async def create_integration(request: Request, user: IntegrationManager, db: Db) -> Response:
    """The credentials form; its fields depend on the provider, so it is read whole."""
    form = await request.form()
    spec = provider(form_text(form, "provider_name"))
    credentials = {
        name: value
        for name in spec.allowed
        if (value := form_text(form, f"credential_{name}").strip())
    }
    body = IntegrationCreate(
        provider=spec.name,
        name=form_text(form, "name").strip() or spec.label,
        credentials=credentials,
        base_url=form_text(form, "base_url").strip() or None,
        config=_sync_config(form),
    )
    settings = settings_of(request)

    def create() -> Integration:  # the database work off the event loop
        made = service.create_integration(
            db, vault_for(settings), user.workspace_id, body, sandbox_mode=settings.sandbox_mode
        )
        db.commit()
        return made

    integration = await run_in_threadpool(create)
    return redirect(f"{UI_PREFIX}/integrations/{integration.id}", f"{integration.name} is added.")


@router.post("/oauth")
async def connect_by_oauth(request: Request, user: IntegrationManager, db: Db) -> Response:
    """Start the provider's consent for a new integration (or to reconnect one): the
    state is the signed-in user's; the browser goes on to the provider."""
    form = await request.form()
    spec = provider(form_text(form, "provider_name"))
    try:
        reconnect = uuid.UUID(text) if (text := form_text(form, "integration_id")) else None
    except ValueError:
        raise RecordInvalid("integration_id: not an integration id") from None
    settings = settings_of(request)

    def begin() -> oauth.Authorization:  # the database work off the event loop
        found = oauth.start(
            db,
            vault_for(settings),
            settings,
            user.workspace_id,
            None,
            spec.name,
            user_id=user.user_id,
            integration_id=reconnect,
            name=form_text(form, "name").strip() or None,
            base_url=form_text(form, "base_url").strip() or None,
            config=None if reconnect else _sync_config(form),
        )
        db.commit()
        return found

    found = await run_in_threadpool(begin)
    return RedirectResponse(found.url, status_code=303)


@router.get("/{integration_id}")
def integration_page(
    request: Request, user: IntegrationReader, db: Db, integration_id: uuid.UUID
) -> Response:
    integration = service.get_integration(db, user.workspace_id, integration_id)
    status = manual.sync_status(db, integration)
    runs = manual.sync_logs(db, integration, limit=20, before=None)
    volume = queries.sync_volume(db, integration.id)
    config = SyncConfig.model_validate(integration.config or {})
    return page(
        request,
        "integration.html",
        {
            "integration": integration,
            "status": status,
            "runs": runs,
            "volume": volume,
            "days": [day[5:] for day, _processed, _failed in volume],  # MM-DD
            "objects": _types(config),
            "object_sync": {o: config.sync_of(o) for o in _types(config)},
            "policies": [p.value for p in ConflictPolicy],
            "oauth_ready": _oauth_ready(request, provider(integration.provider)),
        },
    )


@router.post("/{integration_id}/settings")
async def change_settings(
    request: Request, user: IntegrationManager, db: Db, integration_id: uuid.UUID
) -> Response:
    """Per object its direction; how often it polls; its conflict policy; on or off."""
    form = await request.form()
    settings = settings_of(request)

    def apply() -> Integration:  # the database work off the event loop
        integration = service.get_integration(db, user.workspace_id, integration_id)
        config = SyncConfig.model_validate(
            {
                **(integration.config or {}),
                "objects": _scheduled(form, SyncConfig.model_validate(integration.config or {})),
                "frequency": form_text(form, "frequency").strip() or "1h",
                "conflict_policy": form_text(form, "conflict_policy", "last_write_wins"),
                "auto_sync": form_text(form, "auto_sync", "true") == "true",
            }
        )
        disabled = form_text(form, "enabled", "true") == "false"
        patch = IntegrationPatch(config=config)
        if (integration.status == IntegrationStatus.DISABLED) != disabled:
            status = IntegrationStatus.DISABLED if disabled else IntegrationStatus.CONNECTED
            patch = IntegrationPatch(config=config, status=status)
        service.update_integration(
            db, vault_for(settings), integration, patch, sandbox_mode=settings.sandbox_mode
        )
        db.commit()
        return integration

    integration = await run_in_threadpool(apply)
    return redirect(f"{UI_PREFIX}/integrations/{integration.id}", "Settings saved.")


@router.post("/{integration_id}/test")
def test_integration(
    request: Request, user: IntegrationManager, db: Db, integration_id: uuid.UUID
) -> Response:
    settings = settings_of(request)
    integration = service.get_integration(db, user.workspace_id, integration_id)
    ok, message = connection.test(integration, vault_for(settings), settings, wiring_of(request))
    db.commit()
    said = f"Connection works: {message}" if ok else f"Connection failed: {message}"
    return redirect(f"{UI_PREFIX}/integrations/{integration_id}", said, "ok" if ok else "error")


@router.post("/{integration_id}/sync")
def sync_now(user: SyncOperator, db: Db, integration_id: uuid.UUID) -> Response:
    integration = service.get_integration(db, user.workspace_id, integration_id)
    queued = manual.request_sync(db, integration, full=False)
    db.commit()
    counts = ", ".join(f"{n} {k}" for k, n in queued.items())
    return redirect(f"{UI_PREFIX}/integrations/{integration_id}", f"Sync queued ({counts}).")
