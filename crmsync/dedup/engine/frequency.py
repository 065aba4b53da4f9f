"""How common a name is: agreement on a common name is weaker evidence (term frequency).

Two sources, as splink's term-frequency adjustment has one: a shipped prior (the share
of people with each first name and surname in the 1990 US census name lists,
`name_prior.tsv`, written by `bench/make_name_prior.py`) and the workspace's own data
(how many of its records carry the same full name: `namesakes`, see `scoring`).

An agreeing name part weighs its level's weight plus log2(reference / frequency),
bounded: a surname as common as Smith (1 %) loses 3.3 bits against the reference
(0.1 %); a name rarer than every listed one gains at most `MAX_GAIN` bits.
"""

from __future__ import annotations

from functools import cache
from itertools import repeat
from pathlib import Path

import numpy as np

PRIOR_FILE = Path(__file__).with_name("name_prior.tsv")

# the frequencies at which the fixed name weights of `scoring.LEVELS` apply
REFERENCE = {"first": 0.004, "last": 0.001}
# bounds of the adjustment, in bits
MAX_LOSS = 4.0
MAX_GAIN = 1.0


@cache
def prior() -> dict[str, dict[str, float]]:
    """kind ("first" / "last") -> name -> share of people (0-1)."""
    tables: dict[str, dict[str, float]] = {"first": {}, "last": {}}
    for line in PRIOR_FILE.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        kind, name, per_million = line.split("\t")
        tables[kind][name] = int(per_million) / 1e6
    return tables


def shares(kind: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair, the prior share of the commoner of the two names (0 when unlisted)."""
    table = prior()[kind]
    get = table.get
    a = np.fromiter(map(get, left.tolist(), repeat(0.0)), dtype=np.float64, count=len(left))
    b = np.fromiter(map(get, right.tolist(), repeat(0.0)), dtype=np.float64, count=len(right))
    return np.maximum(a, b)


def adjustment(kind: str, share: np.ndarray) -> np.ndarray:
    """Bits added to an agreeing name part with this prior share (unlisted: the gain)."""
    with np.errstate(divide="ignore"):
        bits = np.log2(REFERENCE[kind] / np.where(share > 0, share, REFERENCE[kind] / 2**MAX_GAIN))
    return np.clip(bits, -MAX_LOSS, MAX_GAIN)
