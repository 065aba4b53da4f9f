"""``crmsync keys rotate``: re-encrypt stored credentials under the current key;
``crmsync integrations setup``: create what an integration needs on the CRM side."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from crmsync.config import Settings
from crmsync.connectors.errors import ConnectorError
from crmsync.integrations.keys import vault_for
from crmsync.integrations.rotation import rotate_all
from crmsync.integrations.setup import service as setup_service
from crmsync.integrations.vault import VaultError
from crmsync.records.errors import RecordError
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.models import Integration

__all__ = ["integrations_app", "keys_app"]

keys_app = typer.Typer(help="Credential encryption keys.", no_args_is_help=True)


@keys_app.command("rotate")
def rotate(
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="CRMSYNC_DATABASE_URL", help="SQLAlchemy URL."),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="Rows per committed batch.")] = 100,
) -> None:
    """Re-encrypt every credential under CRMSYNC_SECRET_KEY.

    Set the new key as CRMSYNC_SECRET_KEY and the old one(s) in
    CRMSYNC_PREVIOUS_SECRET_KEYS (comma-separated) on every process first; they keep
    working throughout. Drop the old keys once this reports nothing left.
    """
    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
    except ValueError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    if settings.secret_key is None or not settings.secret_key.get_secret_value():
        typer.echo("CRMSYNC_SECRET_KEY is not set: it names the key to rotate to", err=True)
        raise typer.Exit(2)
    try:
        vault = vault_for(settings)
    except VaultError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    try:
        report = rotate_all(make_sessionmaker(engine), vault, batch=batch)
    finally:
        engine.dispose()
    typer.echo(
        f"rotated {report.rotated}, already current {report.current}, "
        f"changed meanwhile {report.changed}, unreadable {report.failed}"
    )
    if report.failed:
        typer.echo(
            "some values decrypt with none of the configured keys; "
            "add their key to CRMSYNC_PREVIOUS_SECRET_KEYS and run again",
            err=True,
        )
        raise typer.Exit(1)


integrations_app = typer.Typer(help="Connected CRM accounts.", no_args_is_help=True)


@integrations_app.command("setup")
def setup(
    integration_id: Annotated[uuid.UUID, typer.Argument(help="The integration's id.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created; change nothing.")
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="CRMSYNC_DATABASE_URL", help="SQLAlchemy URL."),
    ] = None,
) -> None:
    """Create what the integration needs on the CRM side (custom fields, property
    groups, webhooks), as POST /api/v1/integrations/{id}/setup does; one line per item."""
    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
        vault = vault_for(settings)
    except (ValueError, VaultError) as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            integration = session.get(Integration, integration_id)
            if integration is None:
                typer.echo(f"no integration {integration_id}", err=True)
                raise typer.Exit(1)
            try:
                report = setup_service.apply(session, integration, vault, settings, dry_run=dry_run)
            except (ConnectorError, RecordError) as exc:
                typer.echo(f"setup failed: {getattr(exc, 'message', exc)}", err=True)
                raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for result in report.results:
        item = result.item
        where = f"{item.remote_object}." if item.remote_object else ""
        reason = f": {result.reason}" if result.reason else ""
        typer.echo(f"{result.outcome.value:8} {item.kind.value:15} {where}{item.name}{reason}")
        for step in item.steps if result.outcome.value == "manual" else ():
            typer.echo(f"{'':25}- {step}")
    counts = ", ".join(f"{k} {v}" for k, v in report.to_json()["counts"].items())
    typer.echo(("dry run: " if dry_run else "") + counts)
    if not report.ok:
        raise typer.Exit(1)
