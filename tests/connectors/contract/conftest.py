"""The contract suite runs once per entry of ``targets.TARGETS``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.contract.targets import TARGETS, Target
from tests.sandbox.conftest import receiver  # noqa: F401  (the webhook receiver fixture)


@pytest.fixture(scope="module", params=sorted(TARGETS))
def served(request: pytest.FixtureRequest) -> Iterator[Target]:
    target = TARGETS[request.param]()
    yield target
    target.stop()


@pytest.fixture
def target(served: Target) -> Target:
    served.reset()
    return served
