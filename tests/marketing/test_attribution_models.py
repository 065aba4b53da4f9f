"""The attribution models against hand-computed cases, and their invariants."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.marketing.attribution import markov
from crmsync.marketing.attribution.conversions import Conversion, Kind
from crmsync.marketing.attribution.credit import Model, weights
from crmsync.marketing.attribution.paths import ConversionPath, Dataset
from crmsync.marketing.attribution.report import DIRECT, attribute

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _days(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(days=d) for d in offsets]


@pytest.mark.parametrize(
    ("model", "n", "expected"),
    [
        (Model.FIRST_TOUCH, 3, [1, 0, 0]),
        (Model.LAST_TOUCH, 3, [0, 0, 1]),
        (Model.LINEAR, 4, [0.25] * 4),
        (Model.POSITION_BASED, 1, [1]),
        (Model.POSITION_BASED, 2, [0.5, 0.5]),
        (Model.POSITION_BASED, 3, [0.4, 0.2, 0.4]),
        (Model.POSITION_BASED, 5, [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4]),
    ],
)
def test_rule_models_by_hand(model: Model, n: int, expected: list[float]) -> None:
    got = weights(model, _days(*range(n)), T0 + timedelta(days=n))
    assert got == pytest.approx(expected)


def test_time_decay_halves_per_half_life() -> None:
    # touches 14, 7 and 0 days before the conversion, half-life 7 days: 1/4, 1/2, 1 (÷ 1.75)
    got = weights(Model.TIME_DECAY, _days(0, 7, 14), T0 + timedelta(days=14), half_life_days=7)
    assert got == pytest.approx([0.25 / 1.75, 0.5 / 1.75, 1 / 1.75])


def test_markov_removal_effects_by_hand() -> None:
    # a -> conv, b -> null, a > b -> conv. P(conv) = P(start->a)·P(conv|a)
    #   + P(start->a)·P(a->b)·P(conv|b) + P(start->b)·P(conv|b).
    # start: a 2/3, b 1/3; a: conv 1/2, b 1/2; b: conv 1/2, null 1/2 -> P = 1/3+1/6+1/6 = 2/3
    # without a: only start->b->conv: 1/3·1/2 = 1/6 -> effect 1 - (1/6)/(2/3) = 3/4
    # without b: start->a->conv: 2/3·1/2 = 1/3 -> effect 1/2
    paths = [markov.Path((0,), True), markov.Path((1,), False), markov.Path((0, 1), True)]
    assert markov.removal_effects(paths, 2) == pytest.approx([0.75, 0.5])
    assert markov.channel_credits(paths, 2, 2.0) == pytest.approx([1.2, 0.8])
    assert markov.path_weights([0, 1, 0], np.array([0.75, 0.5])) == pytest.approx([0.3, 0.4, 0.3])


def test_markov_without_conversions_credits_nothing() -> None:
    paths = [markov.Path((0, 1), False)]
    assert list(markov.channel_credits(paths, 2, 0.0)) == [0.0, 0.0]


def _dataset(paths: list[tuple[list[int], float]], not_converted: list[list[int]]) -> Dataset:
    labels = ["social", "paid", "email"]
    converted = []
    for i, (path, value) in enumerate(paths):
        at = T0 + timedelta(days=30 + i)
        conversion = Conversion(Kind.DEAL_WON, _uuid(i), _uuid(1000 + i), at, value)
        # paths hold naive UTC times (paths.Touches)
        times = [
            (at - timedelta(days=len(path) - j)).replace(tzinfo=None) for j in range(len(path))
        ]
        converted.append(ConversionPath(conversion, times, path, [_uuid(2000 + j) for j in path]))
    return Dataset(labels, converted, not_converted)


def _uuid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def test_a_report_credits_direct_conversions_and_sums_to_the_totals() -> None:
    data = _dataset([([0, 1], 100.0), ([], 50.0), ([2], 10.0)], [[0]])
    for model in Model:
        found = attribute(data, model)
        by = {r.key: r for r in found.rows}
        assert found.total_conversions == 3 and found.total_value == 160.0
        assert sum(r.conversions for r in found.rows) == pytest.approx(3)
        assert sum(r.value for r in found.rows) == pytest.approx(160)
        assert by[DIRECT].conversions == 1 and by[DIRECT].value == 50
    first = {r.key: r.value for r in attribute(data, Model.FIRST_TOUCH).rows}
    assert first == {"social": 100, "email": 10, DIRECT: 50}


paths_strategy = st.lists(
    st.tuples(
        st.lists(st.integers(0, 2), min_size=0, max_size=6),
        st.floats(0, 1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=30,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(paths_strategy, st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=4), max_size=5))
def test_every_model_credits_exactly_the_conversions_and_their_value(
    paths: list[tuple[list[int], float]], not_converted: list[list[int]]
) -> None:
    data = _dataset(paths, not_converted)
    total_value = sum(v for _, v in paths)
    for model in Model:
        found = attribute(data, model)
        assert sum(r.conversions for r in found.rows) == pytest.approx(len(paths))
        assert sum(r.value for r in found.rows) == pytest.approx(total_value, rel=1e-9, abs=1e-6)
        assert all(r.conversions >= -1e-12 for r in found.rows)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=5), min_size=1, max_size=20))
def test_markov_credits_do_not_depend_on_path_order(paths: list[list[int]]) -> None:
    made = [markov.Path(tuple(p), i % 2 == 0) for i, p in enumerate(paths)]
    forward = markov.channel_credits(made, 4, 10.0)
    backward = markov.channel_credits(made[::-1], 4, 10.0)
    assert forward == pytest.approx(backward)


def test_rule_weights_sum_to_one_for_every_length() -> None:
    for model, n in itertools.product([m for m in Model if m is not Model.MARKOV], range(1, 9)):
        got = weights(model, _days(*range(n)), T0 + timedelta(days=n))
        assert sum(got) == pytest.approx(1.0), (model, n)
