"""Benchmark: how long ``crmsync --help`` takes, in a new process each time.

The CLI imports what a command needs when that command runs, so the listing answers
at once. Prints the median and worst wall time and the CPU time of the child processes,
and exits 1 when a run costs 1 s of CPU or more (CPU, not wall time: on a shared
machine a busy neighbour stretches the wall clock, not the work done).

    python bench/cli_startup.py            # 20 runs
    python bench/cli_startup.py --quick    # 5 runs, for CI
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 20)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "crmsync.cli", "--help"]
    walls = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / runs
    median = statistics.median(walls)
    print(
        f"crmsync --help, {runs} runs: median {median:.3f} s, worst {max(walls):.3f} s wall; "
        f"{cpu:.3f} s CPU per run (budget {BUDGET_SECONDS:.1f} s)"
    )
    if cpu >= BUDGET_SECONDS:
        sys.exit(1)


if __name__ == "__main__":
    main()
