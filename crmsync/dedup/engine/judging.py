"""Candidate pairs judged (prefiltered, scored, decided) in parts, on every core.

Judging a pair is numpy and rapidfuzz work on integer-coded columns, so forked worker
processes read the parent's columns without copying them and send back only the
verdicts of the pairs worth scoring. Small jobs stay in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from crmsync.dedup.engine.compare import compare
from crmsync.dedup.engine.encoded import Encoded, decode
from crmsync.dedup.engine.prefilter import worth_scoring
from crmsync.dedup.engine.rules import decide
from crmsync.dedup.engine.settings import DedupSettings

# candidate pairs judged per task: bounds the memory of one part's arrays
PART = 1_000_000
# below this many candidate pairs, starting workers costs more than it saves
PARALLEL_FROM = 2_000_000


@dataclass(frozen=True)
class Verdicts:
    """The pairs that were worth scoring and what the rules said about each."""

    left: np.ndarray
    right: np.ndarray
    matched: np.ndarray
    score: np.ndarray
    conflict: np.ndarray
    possible: np.ndarray


def verdicts(
    enc: Encoded, left: np.ndarray, right: np.ndarray, settings: DedupSettings
) -> Verdicts:
    """Prefilter and score pairs `left[k]`-`right[k]` of `enc`'s rows, all in this process."""
    keep = np.flatnonzero(worth_scoring(enc, left, right, settings))
    left, right = left[keep], right[keep]
    decisions = decide(compare(decode(enc, left), decode(enc, right)), settings)
    return Verdicts(
        left, right, decisions.is_match, decisions.score, decisions.conflict, decisions.possible
    )


# what forked workers judge: set just before the pool forks, read by `_judge_part`
_JOB: tuple[Encoded, np.ndarray, np.ndarray, DedupSettings] | None = None


def _judge_part(bounds: tuple[int, int]) -> Verdicts:
    assert _JOB is not None
    enc, left, right, settings = _JOB
    start, stop = bounds
    return verdicts(enc, left[start:stop], right[start:stop], settings)


def _workers() -> int:
    # Forking a process that runs other Python threads (an API server's thread pool, the
    # sync worker) can copy a lock another thread holds; judge in-process there instead.
    if threading.active_count() > 1:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def judge(
    enc: Encoded,
    left: np.ndarray,
    right: np.ndarray,
    settings: DedupSettings,
    workers: int | None = None,
    part: int = PART,
    parallel_from: int = PARALLEL_FROM,
) -> Verdicts:
    """Verdicts of every candidate pair worth scoring, judged part by part.

    With many pairs and more than one core (and `fork`), the parts go to worker
    processes; the result is the same either way.
    """
    global _JOB
    workers = _workers() if workers is None else workers
    bounds = [(s, min(s + part, len(left))) for s in range(0, len(left), part)]
    parallel = (
        workers > 1
        and len(left) >= parallel_from
        and "fork" in multiprocessing.get_all_start_methods()
    )
    _JOB = (enc, left, right, settings)
    try:
        if parallel:
            # the workers run numpy and rapidfuzz only, never polars, so polars'
            # warning about forking a multi-threaded process does not apply
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*fork.*", category=RuntimeWarning)
                with multiprocessing.get_context("fork").Pool(min(workers, len(bounds))) as pool:
                    parts = pool.map(_judge_part, bounds)
        else:
            parts = [_judge_part(b) for b in bounds]
    finally:
        _JOB = None
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        none = empty.astype(bool)
        return Verdicts(empty, empty, none, empty.astype(float), none, none)
    return Verdicts(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Verdicts.__dataclass_fields__)
    )
