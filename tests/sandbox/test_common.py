"""The common sandbox machinery over real sockets: auth, faults, limits, control."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.faults import FaultInjector
from crmsync.sandbox.webhooks import WebhookMessage

from .conftest import Receiver, ToySandbox

AUTH = {"Authorization": "Bearer toy-token"}


def _statuses(client: httpx.Client, count: int) -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(client.get("/items", headers=AUTH).status_code)
        except httpx.TransportError:
            seen.append("drop")
    return seen


def test_auth_is_checked_but_oauth_paths_are_exempt(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        assert client.get("/items").status_code == 401
        assert client.get("/items", headers=AUTH).json() == {"items": []}
        assert client.post("/oauth/token").json() == {"access_token": "toy-token"}


def test_seeded_fault_rate_repeats_the_same_sequence(serve: Any) -> None:
    options = SandboxOptions(fault_rate=0.5, fault_seed=7, slow_ms=1)
    first, second = ToySandbox(options), ToySandbox(options)
    server = serve(first, second)
    runs = []
    for item in server.running:
        with httpx.Client(base_url=item.base_url, timeout=5) as client:
            runs.append(_statuses(client, 30))
    assert runs[0] == runs[1]
    assert {200} < set(runs[0])  # some faults, some successes
    assert first.faults.injected > 0


def test_reset_restarts_the_fault_sequence(serve: Any) -> None:
    server = serve(ToySandbox(SandboxOptions(fault_rate=0.4, fault_seed=3, slow_ms=1)))
    with httpx.Client(base_url=server.url("toy"), timeout=5) as client:
        before = _statuses(client, 20)
        client.post("/_sandbox/reset")
        assert _statuses(client, 20) == before


def test_forced_faults_hit_exactly_the_next_n_calls(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        answer = client.post("/_sandbox/faults", json={"kind": 503, "count": 2}).json()
        assert answer["forced_remaining"] == 2
        assert _statuses(client, 3) == [503, 503, 200]
        client.post("/_sandbox/faults", json={"kind": "429", "count": 1})
        throttled = client.get("/items", headers=AUTH)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1


def test_forced_fault_on_an_exempt_path_only_when_named(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        client.post("/_sandbox/faults", json={"kind": "500", "count": 1})
        assert client.post("/oauth/token").status_code == 200
        assert client.get("/items", headers=AUTH).status_code == 500
        client.post("/_sandbox/faults", json={"kind": "502", "count": 1, "path": "/oauth"})
        assert client.post("/oauth/token").status_code == 502


def test_dropped_connection_raises_a_transport_error_in_httpx(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        client.post("/_sandbox/faults", json={"kind": "drop", "count": 1})
        with pytest.raises(httpx.TransportError):
            client.get("/items", headers=AUTH)
        assert client.get("/items", headers=AUTH).status_code == 200
        log = client.get("/_sandbox/state").json()["requests"]
    assert [(e["status"], e["fault"]) for e in log] == [(0, "drop"), (200, None)]


def test_rate_limit_answers_429_after_the_window_is_spent(serve: Any) -> None:
    server = serve(ToySandbox(SandboxOptions(rate_profile="tiny")))
    with httpx.Client(base_url=server.url("toy")) as client:
        assert _statuses(client, 4) == [200, 200, 200, 429]
        assert client.post("/oauth/token").status_code == 200  # exempt from limits
        client.post("/_sandbox/faults", json={"rate_profile": "off"})
        assert _statuses(client, 5) == [200] * 5


def test_unknown_rate_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rate profile"):
        ToySandbox(SandboxOptions(rate_profile="platinum"))


def test_state_counts_requests_and_masks_secrets(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        client.post("/_sandbox/change", json={"object_type": "items", "fields": {"a": 1}})
        client.get("/items?api_token=SECRET&limit=5", headers=AUTH)
        state = client.get("/_sandbox/state").json()
    assert state["counts"] == {"items": 1}
    assert state["provider"] == "toy"
    (entry,) = state["requests"]
    assert entry["query"] == "api_token=%2A%2A%2A&limit=5"
    assert "SECRET" not in str(state)


def test_reset_empties_state_and_log(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        client.post("/_sandbox/change", json={"object_type": "items", "fields": {"a": 1}})
        client.get("/items", headers=AUTH)
        assert client.post("/_sandbox/reset").json() == {"reset": True, "counts": {"items": 0}}
        state = client.get("/_sandbox/state").json()
    assert state["requests"] == []
    assert state["counts"] == {"items": 0}


def test_control_errors_are_400_and_unknown_objects_404(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        assert client.post("/_sandbox/faults", json={"kind": "418"}).status_code == 400
        assert client.post("/_sandbox/webhooks", json={"url": "ftp://x"}).status_code == 400
        missing = client.post("/_sandbox/change", json={"object_type": "ghosts", "fields": {}})
        assert missing.status_code == 404


def test_handler_exception_becomes_the_providers_500(serve: Any) -> None:
    server = serve(ToySandbox())
    with httpx.Client(base_url=server.url("toy")) as client:
        answer = client.get("/boom", headers=AUTH)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal server error"}


def test_tls_serves_https_trusted_by_the_generated_certificate(serve: Any) -> None:
    server = serve(ToySandbox(), tls=True)
    assert server.url("toy").startswith("https://127.0.0.1:")
    with httpx.Client(
        base_url=server.url("toy"), verify=ssl.create_default_context(cafile=str(server.cert_path))
    ) as client:
        assert client.get("/items", headers=AUTH).status_code == 200


def test_fault_injector_refuses_bad_rates() -> None:
    with pytest.raises(ValueError):
        FaultInjector(rate=1.5)


def test_webhook_sender_retries_until_the_receiver_accepts(serve: Any, receiver: Receiver) -> None:
    sandbox = ToySandbox()
    server = serve(sandbox)
    receiver.failures = 2
    signed = WebhookMessage(
        receiver.url, b'{"n": 1}', {"X-Test": "yes"}, sign=lambda body, n: {"X-Try": str(n)}
    )
    sandbox.webhooks.enqueue(signed)  # from this thread: runs on the server's loop
    headers, body = receiver.wait(1)[0]
    assert body == b'{"n": 1}'
    assert (headers["x-test"], headers["x-try"]) == ("yes", "2")
    server.call(sandbox.webhooks.drain())
    (delivery,) = httpx.get(server.url("toy") + "/_sandbox/state").json()["webhooks"]["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == (200, 3)


def test_webhooks_never_leave_the_machine(serve: Any) -> None:
    sandbox = ToySandbox()
    server = serve(sandbox)
    refused = httpx.post(
        server.url("toy") + "/_sandbox/webhooks", json={"url": "https://example.com/h"}
    )
    assert refused.status_code == 400
    sandbox.webhooks.enqueue(WebhookMessage("http://192.0.2.1/hook", b"{}"))
    (entry,) = sandbox.webhooks.log
    assert (entry["status"], entry["error"], entry["attempts"]) == (None, "not a loopback URL", 0)
