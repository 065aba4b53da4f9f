"""`crmsync sandbox` as a user runs it: a process that prints URLs and credentials."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import typer
from typer.testing import CliRunner

from crmsync.sandbox import UnknownProvider, provider_class
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.cli import build_sandboxes, sandbox
from tests.e2e.waiting import PATIENCE


@pytest.fixture
def running() -> Iterator[dict[str, tuple[str, str]]]:
    """Start the command on free ports; yield name -> (base URL, credential)."""
    env = {**os.environ, "CRMSYNC_SANDBOX_PORT": "0", "CRMSYNC_SANDBOX_FAULT_SEED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "crmsync.sandbox.cli", "--providers", "hubspot,generic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines = {}
    for _ in range(2):
        name, url, credential = process.stdout.readline().strip().split(" ", 2)
        lines[name] = (url, credential)
    yield lines
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=PATIENCE) == 0


def test_cli_prints_one_usable_line_per_provider(running: dict[str, tuple[str, str]]) -> None:
    hub_url, hub_credential = running["hubspot"]
    token = dict(part.split("=", 1) for part in hub_credential.split())["token"]
    assert token.startswith("pat-na1-")
    answer = httpx.get(
        f"{hub_url}/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and answer.json() == {"results": []}

    generic_url, generic_credential = running["generic"]
    key = generic_credential.removeprefix("api_key=")
    made = httpx.post(
        f"{generic_url}/api/v1/leads", json={"lastName": "Cli"}, headers={"X-API-Key": key}
    )
    assert made.status_code == 201
    assert httpx.get(f"{generic_url}/_sandbox/state").json()["faults"]["seed"] == 1


def test_cli_refuses_unknown_providers() -> None:
    result = CliRunner().invoke(_app(), ["--providers", "nosuchcrm", "--port", "0"])
    assert result.exit_code == 2
    assert "unknown sandbox provider 'nosuchcrm'" in result.output


def test_cli_refuses_unknown_rate_profile() -> None:
    result = CliRunner().invoke(_app(), ["--providers", "generic", "--rate-profile", "gold"])
    assert result.exit_code == 2
    assert "unknown rate profile 'gold'" in result.output


def test_registered_but_missing_package_gives_a_clear_error() -> None:
    registry = {"ghost": "crmsync.sandbox.ghost_provider"}
    with pytest.raises(UnknownProvider, match="registered but"):
        provider_class("ghost", registry)


def test_registry_resolves_the_providers_in_this_package() -> None:
    assert provider_class("hubspot").name == "hubspot"
    assert provider_class("generic").name == "generic"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("sandbox")(sandbox)
    return app


def test_cli_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(_app(), ["--providers", "generic", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.output


def test_rate_profiles_per_provider() -> None:
    sandboxes = build_sandboxes(
        "hubspot,generic", SandboxOptions(rate_profile="hubspot=free,generic=strict")
    )
    assert [s.profile.name for s in sandboxes] == ["free", "strict"]
    only_one = build_sandboxes("hubspot,generic", SandboxOptions(rate_profile="generic=off"))
    assert [s.profile.name for s in only_one] == ["professional", "off"]
    with pytest.raises(ValueError, match="not served"):
        build_sandboxes("generic", SandboxOptions(rate_profile="hubspot=free"))
