"""The one client-credentials flow (Salesforce and Total Expert): sign in on first use,
renew ahead of a stated expiry or once on a 401, single-flight, adopt a shared token."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from crmsync.connectors.errors import AuthError
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.http.oauth import ClientCredentialsAuth
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import LocalTokenStore, TokenSet

from .conftest import FakeClock


class Issuer:
    """A token endpoint and an API: the API takes the last token issued."""

    def __init__(self, lifetime: int | None) -> None:
        self.lifetime = lifetime
        self.issued = 0
        self.valid: set[str] = set()
        self.secret = "s3cret"
        self.lock = threading.Lock()

    def token(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != (
            self.secret
        ):
            return httpx.Response(400, json={"error": "invalid_client", "error_description": "no"})
        with self.lock:
            self.issued += 1
            token = f"t{self.issued}"
            self.valid = {token}
        body: dict[str, Any] = {
            "access_token": token,
            "instance_url": "https://x.my.salesforce.com",
        }
        if self.lifetime is not None:
            body["expires_in"] = self.lifetime
        return httpx.Response(200, json=body)

    def api(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            return httpx.Response(401, json=[{"errorCode": "INVALID_SESSION_ID"}])
        return httpx.Response(200, json={"ok": True})


def _auth(issuer: Issuer, clock: FakeClock, **kwargs: Any) -> tuple[ConnectorHttp, list[TokenSet]]:
    endpoint = TokenEndpoint(
        "https://login.example/services/oauth2/token",
        "cid",
        Secret(issuer.secret),
        httpx.Client(transport=httpx.MockTransport(issuer.token)),
        clock=clock,
    )
    saved: list[TokenSet] = []
    kwargs.setdefault("store", LocalTokenStore())
    auth = ClientCredentialsAuth(endpoint, clock=clock, on_refresh=saved.append, **kwargs)
    client = httpx.Client(
        base_url="https://x.my.salesforce.com", auth=auth, transport=httpx.MockTransport(issuer.api)
    )
    return ConnectorHttp(client), saved


def test_signs_in_on_first_use_and_keeps_the_token(clock: FakeClock) -> None:
    issuer = Issuer(lifetime=3600)
    http, saved = _auth(issuer, clock)
    http.get("/a")
    http.get("/b")
    assert issuer.issued == 1
    assert [t.access_token.reveal() for t in saved] == ["t1"]
    assert saved[0].extras["instance_url"] == "https://x.my.salesforce.com"
    assert saved[0].refresh_token is None


def test_renews_ahead_of_a_stated_expiry(clock: FakeClock) -> None:
    issuer = Issuer(lifetime=3600)
    http, saved = _auth(issuer, clock)
    http.get("/a")
    clock.now += 3600 - 299  # inside the 5-minute margin
    http.get("/a")
    assert issuer.issued == 2 and saved[-1].access_token.reveal() == "t2"


def test_without_expires_in_it_renews_on_a_401_only(clock: FakeClock) -> None:
    issuer = Issuer(lifetime=None)
    http, _ = _auth(issuer, clock)
    http.get("/a")
    clock.now += 10 * 86400
    http.get("/a")
    assert issuer.issued == 1
    issuer.valid = set()  # the org's session timeout passed
    assert http.get("/a").status_code == 200
    assert issuer.issued == 2


def test_concurrent_401s_sign_in_once(clock: FakeClock) -> None:
    issuer = Issuer(lifetime=None)
    http, _ = _auth(issuer, clock)
    http.get("/a")
    issuer.valid = set()
    threads = [threading.Thread(target=http.get, args=("/a",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert issuer.issued == 2


def test_a_token_another_host_obtained_is_adopted(clock: FakeClock) -> None:
    issuer = Issuer(lifetime=3600)
    store = LocalTokenStore()
    issuer.valid = {"shared"}
    store.save(TokenSet(Secret("shared"), None, clock() + 3600))
    http, saved = _auth(issuer, clock, store=store)
    http.get("/a")
    assert issuer.issued == 0 and saved == []


def test_a_refused_sign_in_is_an_auth_error(clock: FakeClock) -> None:
    issuer = Issuer(lifetime=3600)
    http, _ = _auth(issuer, clock)
    issuer.secret = "rotated"  # the admin replaced the client's secret
    with pytest.raises(AuthError):
        http.get("/a")
