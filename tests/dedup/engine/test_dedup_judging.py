"""Judging candidate pairs in worker processes gives what one process gives."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from crmsync.dedup.engine.blocking import candidate_pairs
from crmsync.dedup.engine.encoded import ALL_TEXT, encode
from crmsync.dedup.engine.judging import judge
from crmsync.dedup.engine.prepared import prepare
from crmsync.dedup.engine.settings import DedupSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from gen_contacts import contacts


def test_parts_and_workers_do_not_change_the_verdicts() -> None:
    settings = DedupSettings()
    frame = prepare(list(contacts(3000)))
    left, right = candidate_pairs(frame, settings.window)
    enc = encode(frame, ALL_TEXT)
    alone = judge(enc, left, right, settings, workers=1)
    forked = judge(enc, left, right, settings, workers=2, part=len(left) // 5, parallel_from=0)
    assert alone.matched.sum() > 100 and len(alone.left) < len(left)
    for field in ("left", "right", "matched", "score", "conflict"):
        assert np.array_equal(getattr(alone, field), getattr(forked, field)), field


def test_no_pairs() -> None:
    frame = prepare([{"id": "1", "first_name": "Ann"}])
    empty = np.empty(0, dtype=np.int64)
    judged = judge(encode(frame, ALL_TEXT), empty, empty, DedupSettings())
    assert len(judged.left) == len(judged.matched) == 0


def test_a_process_running_other_threads_judges_in_process() -> None:
    import threading

    from crmsync.dedup.engine import judging

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert judging._workers() == 1
    finally:
        stop.set()
        other.join()
