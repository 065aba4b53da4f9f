"""The ``crmsync`` command group: commands that load when they run, and the database
every command resolves.

``crmsync --help`` lists ``import``, ``sandbox``, ``keys`` and ``consume`` from a one-line summary
without importing their packages. A command with a ``--database-url`` option (those
loaded here as much as those in ``crmsync.cli``) goes through ``ready_database`` first:
it resolves the URL (``crmsync.locations``), prints it on stderr, and stops with one
line when the database is missing, unreachable or not migrated.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from crmsync import locations

__all__ = ["LAZY_COMMANDS", "CommandGroup", "fail", "ready_database", "summary"]

# name -> (where the command is, its one-line summary for the listing)
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("crmsync.imports.cli:import_file", "Import a CSV, TSV, XLSX or JSON lead file."),
    "sandbox": ("crmsync.sandbox.cli:sandbox", "Serve the CRM sandboxes on loopback."),
    "keys": ("crmsync.integrations.cli:keys_app", "Credential encryption keys."),
    "integrations": (
        "crmsync.integrations.cli:integrations_app",
        "Connected CRM accounts: set up their CRM side.",
    ),
    "consume": (
        "crmsync.bus.cli:consume",
        "Consume an event bus (Redis Streams, RabbitMQ, NATS, Kafka).",
    ),
}


def summary() -> str:
    return (
        "crmsync: a self-hosted CRM integration hub.\n\n"
        "Every command uses one database: --database-url, else CRMSYNC_DATABASE_URL, else "
        f"{locations.DEFAULT_DATABASE_URL}. Here: {locations.shown(locations.database_url())}"
    )


class CommandGroup(TyperGroup):
    """A typer group whose heavier commands load when they run, not for the listing."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            target, summary = LAZY_COMMANDS[cmd_name]
            if self._listing:  # the listing shows one line: no need to import the command
                return TyperCommand(cmd_name, short_help=summary)
            self.commands[cmd_name] = _load(cmd_name, target)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.help = summary()  # the database as the environment says now
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _load(name: str, target: str) -> Any:
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command: Any = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    _guard_database(command)
    return command


def _guard_database(command: Any) -> None:
    """Commands with a ``--database-url`` resolve, announce and check it before running."""
    if hasattr(command, "commands"):  # a group
        for sub in command.commands.values():
            _guard_database(sub)
        return
    callback = command.callback
    if callback is None or not any(p.name == "database_url" for p in command.params):
        return

    def guarded(*args: object, **kwargs: object) -> object:
        explicit = kwargs.get("database_url")
        kwargs["database_url"] = ready_database(explicit if isinstance(explicit, str) else None)
        return callback(*args, **kwargs)

    command.callback = functools.update_wrapper(guarded, callback)


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg="red")
    return typer.Exit(code)


def ready_database(explicit: str | None) -> str:
    """The database this command uses, announced on stderr; a one-line error and exit 2
    when it is missing, unreachable or not migrated (nothing is created)."""
    from sqlalchemy.exc import SQLAlchemyError

    from crmsync.store.migrate import not_current

    url = locations.database_url(explicit)
    typer.echo(f"database: {locations.shown(url)}", err=True)
    try:
        problem = not_current(url)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot use the database {locations.shown(url)}: {first}", 2) from None
    if problem:
        raise fail(f"{problem}: run `crmsync migrate` first (or set --database-url)", 2)
    return url
