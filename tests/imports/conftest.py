"""Fixtures of import tests: a data directory, and jobs made from CSV text."""

from __future__ import annotations

import io
import random
import string
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports import jobs
from crmsync.imports.options import ImportOptions
from crmsync.imports.settings import ImportSettings
from crmsync.store.engine import session_scope
from tests.conftest import create_test_app

MakeJob = Callable[..., uuid.UUID]


@pytest.fixture(scope="module")
def imports_app(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> FastAPI:
    """The app, with its uploads under a data directory of this module's own."""
    app = create_test_app(database_url, engine)
    app.state.import_settings = ImportSettings(data_dir=tmp_path_factory.mktemp("imports"))
    return app


@pytest.fixture(scope="module")
def api(imports_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(imports_app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def limits(tmp_path: Path) -> ImportSettings:
    return ImportSettings(data_dir=tmp_path / "data")


@pytest.fixture
def make_job(sessions: sessionmaker[Session], limits: ImportSettings) -> MakeJob:
    """A queued job over ``text`` in ``workspace``; options and mapping as given."""

    def make(
        workspace: uuid.UUID,
        text: str,
        columns: dict[str, str | None] | None = None,
        filename: str = "leads.csv",
        **options: Any,
    ) -> uuid.UUID:
        with session_scope(sessions) as session:
            job = jobs.create_job(
                session,
                workspace,
                limits,
                filename=filename,
                data=io.BytesIO(text.encode()),
                options=ImportOptions.model_validate(options),
                columns=columns,
            )
            jobs.start_job(job)
        return job.id

    return make


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(7)).capitalize()


def people_csv(count: int, start: int = 0) -> str:
    """``count`` people with random names and addresses: no two are alike."""
    lines = ["ref,first,last,email,phone"]
    for i in range(start, start + count):
        rng = random.Random(i)
        first, last = _word(rng), _word(rng)
        lines.append(f"r{i},{first},{last},{first}.{last}@{_word(rng)}.example,")
    return "\n".join(lines) + "\n"


PEOPLE_COLUMNS = {
    "ref": "external_ref",
    "first": "first_name",
    "last": "last_name",
    "email": "email",
    "phone": "phone",
}
