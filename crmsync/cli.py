"""The ``crmsync`` command. Each command parses, calls one service, and prints the answer.

Imports are made where a command runs, so ``crmsync --help`` answers at once; ``import``,
``sandbox`` and ``keys`` live in their packages and load when called (``cli_group``).
Every command that touches the database resolves it the same way (``ready_database``),
says which one it uses on stderr, and refuses an unmigrated one in one line.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from crmsync import locations
from crmsync.auth.permissions import Role
from crmsync.cli_group import CommandGroup, fail, ready_database, summary

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from crmsync.config import Settings

app = typer.Typer(cls=CommandGroup, help=summary(), no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys.", no_args_is_help=True)
dlq_app = typer.Typer(help="The dead-letter queue of sync jobs.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in to the web app (/ui).", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(apikey_app, name="apikey")
app.add_typer(dlq_app, name="dlq")
app.add_typer(user_app, name="user")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar=locations.DATABASE_ENV,
        help=f"SQLAlchemy URL; default {locations.DEFAULT_DATABASE_URL}.",
    ),
]


def _settings(database_url: str | None = None, **overrides: object) -> Settings:
    from crmsync.config import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    values["database_url"] = locations.database_url(database_url)
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(f"configuration error: {exc}", 2) from None


def _sessions(database_url: str | None) -> sessionmaker[Session]:
    from crmsync.store.engine import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(ready_database(database_url)))


def _keep_succeeded(settings: Settings) -> timedelta:
    return timedelta(hours=settings.succeeded_job_retention_hours)


@app.command()
def migrate(
    database_url: DatabaseUrl = None,
    check: Annotated[
        bool, typer.Option(help="Then prove the schema matches the models (alembic check).")
    ] = False,
) -> None:
    """Upgrade the database schema to the newest version (creating a SQLite file)."""
    from crmsync.store import migrate as migrations

    url = _settings(database_url).database_url
    typer.echo(f"database: {locations.shown(url)}", err=True)
    migrations.upgrade(url)
    if check:
        migrations.check(url)
    typer.secho("database is at the newest schema", err=True, fg="green")


@workspace_app.command("create")
def workspace_create(name: str, database_url: DatabaseUrl = None) -> None:
    """Create a workspace; prints its id on stdout."""
    from crmsync.store.engine import session_scope
    from crmsync.workspaces import create_workspace

    with session_scope(_sessions(database_url)) as session:
        workspace = create_workspace(session, name)
    typer.echo(str(workspace.id))


@workspace_app.command("list")
def workspace_list(database_url: DatabaseUrl = None) -> None:
    """List the workspaces: id, name, created (oldest first)."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from crmsync.store.engine import session_scope
    from crmsync.store.models import Workspace

    table = Table("id", "name", "created")
    with session_scope(_sessions(database_url)) as session:
        for w in session.scalars(select(Workspace).order_by(Workspace.created_at, Workspace.id)):
            table.add_row(str(w.id), w.name, f"{w.created_at:%Y-%m-%d %H:%M}")
    Console(width=120).print(table)


@apikey_app.command("create")
def apikey_create(
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    role: Annotated[Role, typer.Option(help="admin, manager, agent or viewer.")] = Role.AGENT,
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key; prints only the key on stdout. It is not shown again."""
    from crmsync.auth.keys import create_api_key
    from crmsync.store.engine import session_scope

    with session_scope(_sessions(database_url)) as session:
        try:
            _key, plaintext = create_api_key(session, workspace, role, name)
        except LookupError as exc:
            raise fail(str(exc)) from None
    typer.echo(plaintext)


@apikey_app.command("list")
def apikey_list(
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """List a workspace's keys (never the keys themselves)."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from crmsync.store.engine import session_scope
    from crmsync.store.models import ApiKey

    table = Table("id", "prefix", "role", "name", "created", "last used", "revoked")
    with session_scope(_sessions(database_url)) as session:
        keys = session.scalars(
            select(ApiKey).where(ApiKey.workspace_id == workspace).order_by(ApiKey.created_at)
        )
        for k in keys:
            table.add_row(
                str(k.id),
                k.prefix,
                k.role,
                k.name,
                f"{k.created_at:%Y-%m-%d %H:%M}",
                f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "-",
                f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-",
            )
    Console().print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: uuid.UUID,
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key by its id (see `apikey list`); requests with it then get 401."""
    from crmsync.auth.keys import revoke_api_key
    from crmsync.store.engine import session_scope

    with session_scope(_sessions(database_url)) as session:
        if not revoke_api_key(session, workspace, key_id):
            raise fail(f"no active key {key_id} in workspace {workspace}")
    typer.echo("revoked", err=True)


@dlq_app.command("list")
def dlq_list(
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    integration: Annotated[uuid.UUID | None, typer.Option(help="Only this integration.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    database_url: DatabaseUrl = None,
) -> None:
    """Dead jobs with their last error, oldest first."""
    from rich.console import Console
    from rich.table import Table

    from crmsync.store.engine import session_scope
    from crmsync.sync import dlq

    table = Table("job", "integration", "object", "record", "attempts", "error", "last error")
    with session_scope(_sessions(database_url)) as session:
        dead = dlq.list_jobs(session, workspace, integration_id=integration, limit=limit)
        for job in dead:
            table.add_row(
                str(job.id),
                str(job.integration_id)[:8],
                job.object_type,
                str(job.record_id),
                str(job.attempts),
                job.error_class or "",
                (job.last_error or "")[:80],
            )
    Console().print(table)
    typer.echo(f"{len(dead)} dead job(s)", err=True)


@dlq_app.command("replay")
def dlq_replay(
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    job_id: Annotated[int | None, typer.Argument(help="A job id from `dlq list`.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead job.")] = False,
    integration: Annotated[
        uuid.UUID | None, typer.Option(help="With --all: only this one.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Queue dead jobs again with fresh attempts."""
    from crmsync.store.engine import session_scope
    from crmsync.sync import dlq

    if (job_id is None) == (not all_):
        raise fail("give a JOB_ID or --all", 2)
    with session_scope(_sessions(database_url)) as session:
        if all_:
            replayed = dlq.replay_all(session, workspace, integration)
            typer.echo(f"replayed {replayed} job(s)", err=True)
            return
        assert job_id is not None
        try:
            job = dlq.replay(session, workspace, job_id)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if job is None:
            raise fail(f"no sync job {job_id} in workspace {workspace}")
    typer.echo(f"job {job_id} queued again", err=True)


@user_app.command("create")
def user_create(
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    email: Annotated[str, typer.Option(help="Their e-mail: they sign in with it.")],
    role: Annotated[Role, typer.Option(help="admin, manager, agent or viewer.")] = Role.ADMIN,
    name: Annotated[str, typer.Option(help="Their name, shown in the web app.")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="CRMSYNC_USER_PASSWORD",
            help="At least 10 characters; asked for (hidden) when absent.",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a web-app user (the first admin, typically); prints the user's id."""
    from crmsync.auth.users import AccountError, create_user
    from crmsync.store.engine import session_scope

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with session_scope(_sessions(database_url)) as session:
        try:
            user = create_user(session, workspace, email, name, role.value, password)
        except (AccountError, LookupError) as exc:
            raise fail(str(exc)) from None
    typer.echo(str(user.id))
    typer.echo(f"{user.email} signs in at <base url>/ui/sign-in", err=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(envvar="CRMSYNC_HOST")] = None,
    port: Annotated[int | None, typer.Option(envvar="CRMSYNC_PORT")] = None,
    worker: Annotated[
        bool, typer.Option(envvar="CRMSYNC_SERVE_WORKER", help="Run a sync worker in-process.")
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            envvar="CRMSYNC_API_PROCESSES",
            help="API processes sharing the port (one per core suits batch upserts).",
        ),
    ] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs), with an in-process sync worker."""
    database_url = ready_database(database_url)
    import uvicorn

    from crmsync.api.app import create_app, freeze_heap
    from crmsync.background import Background
    from crmsync.logging import configure
    from crmsync.sync.targets import targets_of
    from crmsync.sync.worker import Worker

    settings = _settings(database_url, host=host, port=port)
    configure(settings.log_level, json=settings.log_json)
    api = create_app(settings)
    freeze_heap()
    background = None
    beside = None
    if worker:
        keep = _keep_succeeded(settings)
        api.state.owns_targets = False  # shared with the worker: closed after it stops
        background = Worker(api.state.sessionmaker, targets_of(api), keep_succeeded=keep)
        background.start()
        beside = Background(api.state.sessionmaker, settings)
        beside.start()
    try:
        if workers == 1:
            # log_config=None: uvicorn's own lines go through crmsync's log format
            uvicorn.run(
                api, host=settings.host, port=settings.port, access_log=False, log_config=None
            )
        else:
            # Each API process builds its app from the environment; this process keeps
            # the one sync worker and supervises them.
            os.environ[locations.DATABASE_ENV] = database_url
            uvicorn.run(
                "crmsync.api.app:app_from_environment",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                access_log=False,
                log_config=None,
            )
    finally:
        if beside:
            beside.stop()
        if background:
            background.stop()
            targets_of(api).close()


@app.command("worker")
def worker_command(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, envvar="CRMSYNC_WORKER_CONCURRENCY", help="Push threads.")
    ] = 2,
    lease_seconds: Annotated[
        int,
        typer.Option(
            min=2,
            max=3600,
            envvar="CRMSYNC_WORKER_LEASE_SECONDS",
            help="How long a claimed group is held before another worker may take it.",
        ),
    ] = 60,
    database_url: DatabaseUrl = None,
) -> None:
    """Run a sync worker: push outbox jobs, poll CRMs, process webhook deliveries.

    Any number may run against PostgreSQL. SIGTERM lets each thread finish its batch.
    Succeeded jobs older than CRMSYNC_SUCCEEDED_JOB_RETENTION_HOURS are deleted.
    """
    import signal

    from crmsync.background import Background
    from crmsync.logging import configure
    from crmsync.store.engine import make_engine, make_sessionmaker
    from crmsync.sync.targets import TargetResolver
    from crmsync.sync.worker import Worker

    settings = _settings(ready_database(database_url))
    configure(settings.log_level, json=settings.log_json)
    sessions = make_sessionmaker(make_engine(settings.database_url))
    running = Worker(
        sessions,
        TargetResolver(settings),
        concurrency=concurrency,
        lease=timedelta(seconds=lease_seconds),
        reap_interval=max(1.0, lease_seconds / 4),
        keep_succeeded=_keep_succeeded(settings),
    )
    signal.signal(signal.SIGTERM, lambda *_: running.request_stop())
    typer.echo(f"worker {running.worker_id} running with {concurrency} push thread(s)", err=True)
    beside = Background(sessions, settings)
    beside.start()
    try:
        running.run_until_stopped()
    except KeyboardInterrupt:
        running.stop()
    finally:
        beside.stop()


@app.command()
def demo(
    once: Annotated[
        bool, typer.Option(help="Run every step, check the API answers, then exit 0.")
    ] = False,
    database_url: DatabaseUrl = None,
    port: Annotated[
        int, typer.Option(envvar="CRMSYNC_PORT", help="Taken: another free port is used.")
    ] = 8000,
) -> None:
    """The embedded demo: a demo workspace and key, sample records, sandboxes, the server.

    It migrates the database first, and a second run reuses its workspace and replaces
    its sandbox integrations.
    """
    from crmsync import demo as demo_module
    from crmsync.logging import configure

    os.environ.setdefault("CRMSYNC_SANDBOX_MODE", "1")
    settings = _settings(database_url, mode="demo", port=port, sandbox_mode=True)
    configure("WARNING", json=False)
    demo_module.run(settings, once=once, say=typer.echo)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
