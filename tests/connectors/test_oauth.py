"""OAuth2: refresh ahead of expiry, once on 401, single-flight across threads and hosts."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from crmsync.connectors.errors import AuthError
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.http.oauth import OAuth2Auth
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.tokens import LocalTokenStore, RedisTokenStore, TokenSet
from crmsync.integrations.vault import Vault, VaultSealer

from .conftest import FakeClock


class Provider:
    """A provider that accepts exactly the tokens it issued last (per refresh)."""

    def __init__(self, clock: FakeClock, lifetime: float = 1800.0):
        self.clock = clock
        self.lifetime = lifetime
        self.valid = {"access-0"}
        self.refreshes = 0
        self.lock = threading.Lock()
        self.reject_all = False
        self.seen: list[str] = []

    def refresh(self, token: TokenSet) -> TokenSet:
        with self.lock:
            self.refreshes += 1
            n = self.refreshes
            self.valid = {f"access-{n}"}
        return TokenSet(
            access_token=Secret(f"access-{n}"),
            refresh_token=Secret(f"refresh-{n}"),
            expires_at=self.clock() + self.lifetime,
        )

    def handler(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append(token)
        if self.reject_all or token not in self.valid:
            return httpx.Response(
                401, json={"category": "EXPIRED_AUTHENTICATION", "message": "expired"}
            )
        return httpx.Response(200, json={"ok": True})


def _token(clock: FakeClock, expires_in: float) -> TokenSet:
    return TokenSet(Secret("access-0"), Secret("refresh-0"), clock() + expires_in)


def _http(auth: httpx.Auth, provider: Provider) -> ConnectorHttp:
    client = httpx.Client(
        base_url="https://api.example.com",
        auth=auth,
        transport=httpx.MockTransport(provider.handler),
    )
    return ConnectorHttp(client)


def test_fresh_token_is_used_without_refresh(clock: FakeClock) -> None:
    provider = Provider(clock)
    auth = OAuth2Auth(_token(clock, 1800), provider.refresh, clock=clock)
    _http(auth, provider).get("/crm/v3/objects/contacts")
    assert provider.refreshes == 0
    assert provider.seen == ["access-0"]


def test_refreshes_five_minutes_before_expiry(clock: FakeClock) -> None:
    provider = Provider(clock)
    persisted: list[TokenSet] = []
    auth = OAuth2Auth(
        _token(clock, 301), provider.refresh, clock=clock, on_refresh=persisted.append
    )
    http = _http(auth, provider)
    http.get("/a")
    assert provider.refreshes == 0  # 301 s left: still outside the window
    clock.now += 2  # 299 s left
    http.get("/a")
    assert provider.refreshes == 1
    assert provider.seen == ["access-0", "access-1"]  # no 401 was needed
    assert [t.access_token.reveal() for t in persisted] == ["access-1"]
    assert auth.token.refresh_token == Secret("refresh-1")


def test_refreshes_once_on_401_and_retries(clock: FakeClock) -> None:
    provider = Provider(clock)
    provider.valid = {"something-else"}  # revoked early, expiry still far
    auth = OAuth2Auth(_token(clock, 1800), provider.refresh, clock=clock)
    response = _http(auth, provider).get("/a")
    assert response.status_code == 200
    assert provider.refreshes == 1
    assert provider.seen == ["access-0", "access-1"]


def test_second_401_is_an_auth_error(clock: FakeClock) -> None:
    provider = Provider(clock)
    provider.reject_all = True
    auth = OAuth2Auth(_token(clock, 1800), provider.refresh, clock=clock)
    with pytest.raises(AuthError):
        _http(auth, provider).get("/a")
    assert provider.refreshes == 1
    assert len(provider.seen) == 2


def test_no_refresh_token_is_an_auth_error(clock: FakeClock) -> None:
    provider = Provider(clock)
    auth = OAuth2Auth(
        TokenSet(Secret("access-0"), None, clock() + 10), provider.refresh, clock=clock
    )
    with pytest.raises(AuthError, match="reconnect"):
        _http(auth, provider).get("/a")


def test_single_flight_across_threads(clock: FakeClock) -> None:
    provider = Provider(clock)
    entered = threading.Event()
    release = threading.Event()
    original = provider.refresh

    def slow_refresh(token: TokenSet) -> TokenSet:
        entered.set()
        release.wait(5)
        return original(token)

    auth = OAuth2Auth(_token(clock, 60), slow_refresh, clock=clock)  # inside the window
    http = _http(auth, provider)
    results: list[int] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(http.get("/a").status_code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    assert entered.wait(5)
    release.set()
    for t in threads:
        t.join(10)
    assert errors == []
    assert results == [200] * 12
    assert provider.refreshes == 1
    assert set(provider.seen) == {"access-1"}


def test_rotated_refresh_token_from_the_store_is_used(clock: FakeClock) -> None:
    provider = Provider(clock)
    store = LocalTokenStore()
    used: list[str] = []

    def refresh(token: TokenSet) -> TokenSet:
        assert token.refresh_token is not None
        used.append(token.refresh_token.reveal())
        return provider.refresh(token)

    first = OAuth2Auth(_token(clock, 60), refresh, store=store, clock=clock)
    second = OAuth2Auth(_token(clock, 60), refresh, store=store, clock=clock)
    _http(first, provider).get("/a")
    clock.now += 1800  # first's token now expires too
    _http(second, provider).get("/a")
    assert used == ["refresh-0", "refresh-1"]


def _redis_auth(
    redis_client: Any, prefix: str, clock: FakeClock, refresher: Any, vault: Vault
) -> OAuth2Auth:
    store = RedisTokenStore(
        redis_client, "integ-1", VaultSealer(vault, "ws-1", "integ-1"), prefix=prefix
    )
    return OAuth2Auth(_token(clock, 60), refresher, store=store, clock=clock)


def test_single_flight_across_hosts_through_redis(
    redis_client: Any, redis_prefix: str, clock: FakeClock
) -> None:
    provider = Provider(clock)
    vault = Vault.from_secret_key("k" * 40)
    # two "hosts": separate auth objects and stores, one Redis
    hosts = [
        _redis_auth(redis_client, redis_prefix, clock, provider.refresh, vault) for _ in range(2)
    ]
    barrier = threading.Barrier(8)

    def call(auth: OAuth2Auth) -> None:
        barrier.wait(5)
        _http(auth, provider).get("/a")

    threads = [threading.Thread(target=call, args=(hosts[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert provider.refreshes == 1
    assert set(provider.seen) == {"access-1"}
    # the shared cache never holds the token in plaintext
    for key in redis_client.scan_iter(f"{redis_prefix}:*"):
        if redis_client.type(key) == b"string":
            assert b"access-1" not in redis_client.get(key)
