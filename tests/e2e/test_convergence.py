"""A bounded round of the two-way convergence soak (``bench/convergence.py``): edits in
the app, HubSpot and Pipedrive at once, deletes raced by edits, faults and a SIGKILL of
the crmsync process, on SQLite; after quiescence every side must agree, and under
last_write_wins on the latest write."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import convergence


@pytest.mark.parametrize("policy", ["last_write_wins", "manual"])
def test_every_side_converges(policy: str) -> None:
    scenario = convergence.Scenario(
        "sqlite", policy, contacts=12, seconds=4.0, delete_share=0.15, seed=3, min_edits=40
    )
    report = convergence.run(scenario)
    assert report.writes > 10 and report.deletes > 0
    assert (report.divergent, report.duplicates, report.resurrected) == (0, 0, 0), report
    assert report.lost == 0, report  # counted under last_write_wins only
    assert (report.open_conflicts, report.spurious_conflicts) == (0, 0), report
