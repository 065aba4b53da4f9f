"""The contract every registered provider sandbox keeps, run against each one that is
installed: its sample upsert works, reset empties it, forced faults and drops hit the
next call, and the request log holds no credential."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from crmsync.sandbox import available, create
from crmsync.sandbox.base import ProviderSandbox, SampleRequest, SandboxOptions

PROVIDERS = available()


def _send(client: httpx.Client, sample: SampleRequest) -> httpx.Response:
    return client.request(
        sample.method, sample.path, headers=dict(sample.headers), content=sample.body
    )


def _sample(sandbox: ProviderSandbox) -> SampleRequest:
    sample = sandbox.upsert_request(0)
    if sample is None:
        pytest.skip(f"{sandbox.name} defines no upsert_request")
    return sample


@pytest.fixture(params=PROVIDERS)
def running(request: pytest.FixtureRequest, serve: Any) -> tuple[ProviderSandbox, httpx.Client]:
    sandbox = create(request.param, SandboxOptions(rate_profile="off"))
    server = serve(sandbox)
    client = httpx.Client(base_url=server.url(sandbox.name))
    request.addfinalizer(client.close)
    return sandbox, client


def test_sample_upsert_stores_records_and_reset_empties(
    running: tuple[ProviderSandbox, httpx.Client],
) -> None:
    sandbox, client = running
    sample = _sample(sandbox)
    answer = _send(client, sample)
    assert answer.status_code < 300, answer.text
    assert sum(sandbox.counts().values()) >= sample.records
    assert _send(client, sample).status_code < 300  # the same keys again: an update
    assert sum(sandbox.counts().values()) == sum(
        client.get("/_sandbox/state").json()["counts"].values()
    )
    client.post("/_sandbox/reset")
    assert sum(sandbox.counts().values()) == 0
    assert client.get("/_sandbox/state").json()["requests"] == []


def test_forced_faults_hit_the_next_calls(running: tuple[ProviderSandbox, httpx.Client]) -> None:
    sandbox, client = running
    sample = _sample(sandbox)
    client.post("/_sandbox/faults", json={"kind": "503", "count": 1})
    assert _send(client, sample).status_code == 503
    client.post("/_sandbox/faults", json={"kind": "drop", "count": 1})
    with pytest.raises(httpx.TransportError):
        _send(client, sample)
    assert _send(client, sample).status_code < 300


def test_request_log_holds_no_credential(running: tuple[ProviderSandbox, httpx.Client]) -> None:
    sandbox, client = running
    sample = _sample(sandbox)
    _send(client, sample)
    log = orjson.dumps(client.get("/_sandbox/state").json()["requests"]).decode()
    secrets = [part.split("=", 1)[1] for part in sandbox.credential().split() if "=" in part]
    assert secrets
    for secret in secrets:
        if len(secret) >= 16:  # ids such as app_id=54321 are not secrets
            assert secret not in log
