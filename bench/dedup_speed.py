"""Speed benchmark of duplicate detection on synthetic contacts (bench/gen_contacts.py).

Measures find_duplicates over N contacts, building a DuplicateIndex over them, single
check() calls against it (p50/p99) and check_many over a batch (rows/s), and reports
pairwise precision/recall against the generator's truth.

    python bench/dedup_speed.py            # 1,000,000 contacts, 100,000 in check_many
    python bench/dedup_speed.py --quick    # 50,000 contacts, 10,000 in check_many
    python bench/dedup_speed.py 200000 --checks 2000 --bulk 50000
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_contacts import contacts, noisy_copy

from crmsync.dedup.engine import DedupSettings, DuplicateIndex, find_duplicates

FULL = 1_000_000
QUICK = 50_000


def truth_pairs(records: list[dict[str, object]]) -> set[tuple[str, str]]:
    people: dict[object, list[str]] = defaultdict(list)
    for r in records:
        people[r["person"]].append(str(r["id"]))
    return {
        (a, b) if a < b else (b, a)
        for ids in people.values()
        for a, b in itertools.combinations(ids, 2)
    }


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers, all threads."""
    mine, workers = (
        resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int, nargs="?", default=FULL)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} contacts")
    parser.add_argument("--checks", type=int, default=1000, help="check() calls to time")
    parser.add_argument("--bulk", type=int, default=100_000, help="candidates in check_many")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else args.size
    bulk = min(args.bulk, 10_000) if args.quick else args.bulk
    settings = DedupSettings()

    print("load average (1/5/15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    start = time.perf_counter()
    records = list(contacts(size))
    print(f"generated {size:,} contacts in {time.perf_counter() - start:.1f} s")

    start, cpu = time.perf_counter(), cpu_seconds()
    clusters = find_duplicates(records, settings)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    print(
        f"find_duplicates: {seconds:.1f} s wall ({cpu:.1f} s CPU, all threads and workers) for"
        f" {size:,} contacts, {len(clusters):,} clusters, {size / seconds:,.0f} rows/s wall,"
        f" {size / cpu:,.0f} rows/CPU-s"
    )

    groups = clusters.id_groups()
    predicted = {
        (a, b) if a < b else (b, a) for g in groups for a, b in itertools.combinations(g, 2)
    }
    truth = truth_pairs(records)
    tp = len(predicted & truth)
    precision, recall = tp / max(len(predicted), 1), tp / max(len(truth), 1)
    print(f"  pairwise precision {precision:.4f} recall {recall:.4f} ({len(truth):,} true pairs)")

    # a long-lived service holding a million contacts freezes them out of the cyclic
    # garbage collector, whose full passes would otherwise stall single checks
    gc.freeze()
    start, cpu = time.perf_counter(), cpu_seconds()
    index = DuplicateIndex.build(records, settings)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    print(f"DuplicateIndex.build: {seconds:.1f} s wall ({cpu:.1f} s CPU)")

    rng = random.Random(11)
    newcomers = list(contacts(max(args.checks, bulk), seed=99))
    candidates = []
    for n in range(max(args.checks, bulk)):
        if n % 2:  # a new noisy record of an indexed person
            candidates.append({**noisy_copy(rng, rng.choice(records)), "id": f"new{n}"})
        else:  # someone else
            candidates.append({**newcomers[n], "id": f"new{n}"})
    timings, cpu_timings = [], []
    found = 0
    singles = []
    for candidate in candidates[: args.checks]:
        start, cpu = time.perf_counter(), time.thread_time()
        result = index.check(candidate)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.thread_time() - cpu) * 1000)
        found += result.is_duplicate
        singles.append(result)
    print(
        f"check(): p50 {percentile(timings, 0.5):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms,"
        f" max {max(timings):.2f} ms over {len(timings):,} calls against {len(index):,} contacts"
        f" ({found} flagged, {len(timings) // 2} were noisy copies); CPU of the calling thread"
        f" p50 {percentile(cpu_timings, 0.5):.2f} ms, p99 {percentile(cpu_timings, 0.99):.2f} ms"
    )

    start, cpu = time.perf_counter(), cpu_seconds()
    answers = index.check_many(candidates[:bulk])
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    same = answers[: len(singles)] == singles[:bulk]
    print(
        f"check_many: {bulk:,} candidates in {seconds:.1f} s wall ({cpu:.1f} s CPU),"
        f" {bulk / seconds:,.0f} rows/s wall, {bulk / max(cpu, 1e-9):,.0f} rows/CPU-s;"
        f" {sum(a.is_duplicate for a in answers):,} flagged;"
        f" same answers as check(): {'yes' if same else 'NO'}"
    )
    print("load average (1/5/15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
