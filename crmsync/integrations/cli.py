"""``crmsync keys rotate``: re-encrypt stored credentials under the current key."""

from __future__ import annotations

from typing import Annotated

import typer

from crmsync.config import Settings
from crmsync.integrations.keys import vault_for
from crmsync.integrations.rotation import rotate_all
from crmsync.integrations.vault import VaultError
from crmsync.store.engine import make_engine, make_sessionmaker

__all__ = ["keys_app"]

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
