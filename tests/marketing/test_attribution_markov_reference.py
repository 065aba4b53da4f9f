"""crmsync's exact Markov model agrees with ChannelAttribution's simulated one, per channel."""

from __future__ import annotations

import collections
import random

import pytest

from crmsync.marketing.attribution import markov

ChannelAttribution = pytest.importorskip(
    "ChannelAttribution", reason="ChannelAttribution (the bench extra) is not installed"
)
pd = pytest.importorskip("pandas")

CHANNELS = ["social", "paid", "email", "web", "referral"]


def _paths(seed: int) -> list[markov.Path]:
    rng = random.Random(seed)
    lift = {"social": 0.25, "paid": 0.15, "email": 0.3, "web": 0.05, "referral": 0.2}
    seen: collections.Counter[tuple[tuple[int, ...], bool]] = collections.Counter()
    for _ in range(20_000):
        path = tuple(rng.randrange(len(CHANNELS)) for _ in range(rng.randint(1, 6)))
        odds = sum(lift[CHANNELS[c]] for c in set(path))
        seen[(path, rng.random() < odds / (1 + odds))] += 1
    return [markov.Path(p, converted, n) for (p, converted), n in seen.items()]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 11])
def test_markov_credits_agree_with_channelattribution_within_one_percent(seed: int) -> None:
    paths = _paths(seed)
    rows: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for path in paths:
        rows[">".join(CHANNELS[c] for c in path.channels)][0 if path.converted else 1] += path.count
    frame = pd.DataFrame([{"path": k, "conv": v[0], "null": v[1]} for k, v in rows.items()])
    theirs = ChannelAttribution.markov_model(
        frame, "path", "conv", var_null="null", sep=">", nsim_start=1e6, max_step=200,
        conv_par=0.01, ncore=2, seed=seed, verbose=False, flg_pro=False,
    )  # fmt: skip
    total = sum(p.count for p in paths if p.converted)
    ours = markov.channel_credits(paths, len(CHANNELS), total)
    for name, credited in zip(theirs["channel_name"], theirs["total_conversions"], strict=True):
        assert ours[CHANNELS.index(name)] == pytest.approx(credited, rel=0.01), name
