"""`crmsync sandbox`: serve CRM sandboxes on loopback until Ctrl-C.

Prints one line per provider, ``name base_url credential``, for example
``hubspot http://127.0.0.1:8600 token=pat-na1-...``. The main CLI registers
`sandbox` with ``app.command("sandbox")(sandbox)``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import typer

from crmsync.sandbox import PROVIDERS, UnknownProvider, create
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.server import SandboxServer

ENV = "CRMSYNC_SANDBOX_"


def profile_choices(rate_profile: str | None, names: list[str]) -> dict[str, str | None]:
    """Provider -> rate profile from ``NAME`` (every provider) or
    ``hubspot=free,generic=strict`` (unnamed providers keep their default)."""
    if rate_profile is None or "=" not in rate_profile:
        return dict.fromkeys(names, rate_profile)
    chosen: dict[str, str | None] = dict.fromkeys(names)
    for pair in rate_profile.split(","):
        provider, _, profile = pair.partition("=")
        if provider.strip() not in chosen:
            raise ValueError(f"rate profile for {provider.strip()!r}, which is not served")
        chosen[provider.strip()] = profile.strip()
    return chosen


def build_sandboxes(providers: str, options: SandboxOptions) -> list[ProviderSandbox]:
    """Sandboxes for a comma-separated provider list (a clear error for unknown ones)."""
    names = [n.strip() for n in providers.split(",") if n.strip()]
    if not names:
        raise UnknownProvider("no providers given")
    profiles = profile_choices(options.rate_profile, names)
    return [
        create(name, dataclasses.replace(options, rate_profile=profiles[name])) for name in names
    ]


def serve_until(server: SandboxServer, stop: threading.Event, echo: Callable[[str], None]) -> None:
    """Start `server`, print the provider lines, block until `stop` is set."""
    with server:
        for item in server.running:
            echo(f"{item.name} {item.base_url} {item.sandbox.credential()}")
        if server.cert_path is not None:
            echo(f"# tls certificate {server.cert_path}")
        while not stop.wait(0.5):
            pass


def sandbox(
    providers: str = typer.Option(
        ",".join(PROVIDERS),
        help="Comma-separated providers to serve.",
        envvar=ENV + "PROVIDERS",
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to bind.", envvar=ENV + "HOST"),
    port: int = typer.Option(
        8600, help="First port; providers get port, port+1, ... (0: any free).", envvar=ENV + "PORT"
    ),
    fault_rate: float = typer.Option(
        0.0, help="Share of requests (0..1) that get an injected fault.", envvar=ENV + "FAULT_RATE"
    ),
    fault_seed: int | None = typer.Option(
        None, help="Seed for repeatable faults.", envvar=ENV + "FAULT_SEED"
    ),
    latency_ms: int = typer.Option(
        0, help="Added latency per request in milliseconds.", envvar=ENV + "LATENCY_MS"
    ),
    rate_profile: str | None = typer.Option(
        None,
        help="Rate-limit tier for every provider, or per provider as 'hubspot=free,generic=strict'"
        " (provider default when unset; 'off' disables limits).",
        envvar=ENV + "RATE_PROFILE",
    ),
    tls: bool = typer.Option(
        False, help="Serve https with a self-signed certificate.", envvar=ENV + "TLS"
    ),
) -> None:
    """Serve CRM sandboxes on loopback and print their URLs and credentials."""
    options = SandboxOptions(
        fault_rate=fault_rate,
        fault_seed=fault_seed,
        latency_ms=latency_ms,
        rate_profile=rate_profile,
        tls=tls,
    )
    try:
        sandboxes = build_sandboxes(providers, options)
    except (UnknownProvider, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    server = SandboxServer(sandboxes, host=host, port=port, tls=tls)
    stop = threading.Event()
    try:
        serve_until(server, stop, lambda line: typer.echo(line))
    except KeyboardInterrupt:
        stop.set()
    except OSError as exc:  # e.g. the port is taken
        typer.echo(f"error: cannot serve on {host}:{port}: {exc}", err=True)
        raise typer.Exit(2) from exc


def main() -> None:
    """Run the command on its own (``python -m crmsync.sandbox.cli``)."""
    typer.run(sandbox)


if __name__ == "__main__":
    main()
