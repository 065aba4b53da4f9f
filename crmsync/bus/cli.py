"""``crmsync consume``: take a bus's messages in (and publish the outbound events to it)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from crmsync.bus.spec import BadSource, SourceSpec

if TYPE_CHECKING:
    from crmsync.bus.runtime import SourceRunner

err = Console(stderr=True)


def consume(
    source: Annotated[
        str,
        typer.Option(
            envvar="CRMSYNC_BUS_SOURCE",
            help="Broker URL: redis://, amqp://, nats:// or kafka://host:port.",
        ),
    ],
    stream: Annotated[
        str,
        typer.Option(
            envvar="CRMSYNC_BUS_STREAM",
            help="Redis stream, RabbitMQ queue, NATS subject or Kafka topic.",
        ),
    ],
    group: Annotated[
        str, typer.Option(envvar="CRMSYNC_BUS_GROUP", help="Consumer group / durable name.")
    ] = "crmsync",
    consumer: Annotated[
        str | None,
        typer.Option(envvar="CRMSYNC_BUS_CONSUMER", help="This consumer's name (host-pid)."),
    ] = None,
    workspace: Annotated[
        uuid.UUID | None,
        typer.Option(
            envvar="CRMSYNC_BUS_WORKSPACE",
            help="The source's workspace: messages may omit workspace_id, and its status "
            "shows in GET /api/v1/sources.",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(envvar="CRMSYNC_BUS_NAME", help="Source name (with --workspace).")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=5000, envvar="CRMSYNC_BUS_BATCH_SIZE")
    ] = 500,
    claim_idle_ms: Annotated[
        int,
        typer.Option(
            min=100,
            envvar="CRMSYNC_BUS_CLAIM_IDLE_MS",
            help="Unacknowledged this long, a message is taken over from its consumer.",
        ),
    ] = 30_000,
    metrics_port: Annotated[
        int | None,
        typer.Option(envvar="CRMSYNC_BUS_METRICS_PORT", help="Serve /metrics on this port."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="CRMSYNC_DATABASE_URL", help="SQLAlchemy URL."),
    ] = None,
) -> None:
    """Consume app events and record upserts from a bus: ack after commit, duplicates
    dropped by message id, unreadable messages to STREAM.dead."""
    from crmsync.bus import sources
    from crmsync.bus.runtime import BrokerUnreachable, SourceRunner
    from crmsync.config import Settings
    from crmsync.logging import configure
    from crmsync.store.engine import make_engine, make_sessionmaker, session_scope

    settings = Settings(**({"database_url": database_url} if database_url else {}))  # type: ignore[arg-type]
    configure(settings.log_level, json=settings.log_json)
    sessions = make_sessionmaker(make_engine(settings.database_url))
    options: dict[str, object] = {"batch_size": batch_size, "claim_idle_ms": claim_idle_ms}
    if consumer:
        options["consumer"] = consumer
    try:
        if workspace is not None:
            with session_scope(sessions) as session:
                row = sources.save_source(
                    session, workspace, name or stream, source, stream, group, enabled=None
                )
                spec = sources.spec_of(row, **options)
        else:
            spec = SourceSpec(source, stream, group, name=name or "", **options)  # type: ignore[arg-type]
    except BadSource as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1")
    try:
        asyncio.run(_run(SourceRunner(spec, sessions)))
    except BrokerUnreachable as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


async def _run(runner: SourceRunner) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runner.connect()
    err.print(f"consuming {runner.spec.kind} {runner.spec.stream} as {runner.spec.consumer}")
    await runner.run(stop)
