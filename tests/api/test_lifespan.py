"""What the app makes on first use is closed with it: the connector resolver and the
import threads (which stop at a checkpoint, to resume at the next start)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crmsync.api.routers.imports import launcher_of
from crmsync.sync.targets import targets_of


def _calls(obj: object, name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = getattr(obj, name)

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, spy)
    return seen


def test_shutdown_closes_what_the_app_made(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(app):
        closed = _calls(targets_of(app), "close", monkeypatch)
        launcher = launcher_of(app.state)
        stopped = _calls(launcher, "stop", monkeypatch)
        assert closed == [] and stopped == []
    assert closed == ["close"]
    assert stopped == ["stop"] and launcher._stopping.is_set()


def test_a_resolver_shared_with_a_worker_is_left_to_its_owner(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.state.owns_targets = False
    try:
        with TestClient(app):
            closed = _calls(targets_of(app), "close", monkeypatch)
        assert closed == []
    finally:
        app.state.owns_targets = True


def test_an_app_started_again_makes_new_ones(app: FastAPI) -> None:
    with TestClient(app):
        first_launcher, first_targets = launcher_of(app.state), targets_of(app)
    with TestClient(app):
        launcher = launcher_of(app.state)
        assert launcher is not first_launcher and not launcher._stopping.is_set()
        assert targets_of(app) is not first_targets
