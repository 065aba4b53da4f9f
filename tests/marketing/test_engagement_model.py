"""The engagement model: points, decay, caps, and the incremental state equal to a
score computed from scratch, whatever the order of the interactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.marketing.engagement import State, contributions, points, score, score_of_sums
from crmsync.marketing.settings import EngagementModel

MODEL = EngagementModel()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TYPES = ["call", "email", "meeting", "message", "push_notification", "rate_alert"]


def test_points_follow_weight_channel_and_direction() -> None:
    assert points(MODEL, "call", None, None) == 10.0
    assert points(MODEL, "call", "push", "outbound") == 10.0 * 0.5 * 0.4
    assert points(MODEL, "unknown_kind", None, None) == MODEL.default_weight


def test_half_life_halves_a_contribution() -> None:
    fresh = State(NOW).add(MODEL, "call", NOW, 10.0)
    later = fresh.at(MODEL, NOW + timedelta(days=MODEL.half_life_days))
    assert abs(later.sums["call"] - 5.0) < 1e-9
    assert score(MODEL, fresh, NOW + timedelta(days=2 * MODEL.half_life_days)) == 2.5


def test_caps_bound_each_type_and_the_score() -> None:
    state = State(NOW)
    for _ in range(50):
        state = state.add(MODEL, "email", NOW, 3.0)
    (email,) = contributions(MODEL, state)
    assert email.uncapped == 150.0 and email.points == MODEL.caps["email"]
    for kind in [*TYPES, "pos_application_submitted"]:
        for _ in range(20):
            state = state.add(MODEL, kind, NOW, 30.0)
    assert score(MODEL, state) == 100.0


interactions = st.lists(
    st.tuples(st.sampled_from(TYPES), st.integers(min_value=0, max_value=90 * 86_400)),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(interactions, st.randoms())
def test_incremental_equals_from_scratch_in_any_order(
    items: list[tuple[str, int]], rng: object
) -> None:
    """Adding interactions one by one, in any order, reading later, gives the score a
    direct sum over all of them gives."""
    expected: dict[str, float] = {}
    for kind, age in items:
        worth = points(MODEL, kind, None, None) * 0.5 ** (age / 86_400 / MODEL.half_life_days)
        expected[kind] = expected.get(kind, 0.0) + worth
    shuffled = list(items)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    state = State(NOW - timedelta(days=120))
    for kind, age in shuffled:
        state = state.add(
            MODEL, kind, NOW - timedelta(seconds=age), points(MODEL, kind, None, None)
        )
    got = score(MODEL, state, NOW)
    assert abs(got - score_of_sums(MODEL, expected)) <= 0.011
