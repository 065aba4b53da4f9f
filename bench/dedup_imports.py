"""Dedup of a generated lead file as an import runs it: CPU per 100,000 rows, and quality.

The file is ``bench/imports.py``'s (seed 7), with its ground truth (each row's person);
its 1% seeded people stand in the index as existing contacts. The file is mapped once
(cached under the temporary directory) and then checked batch by batch with
``DuplicateGuard.check_batch``, as the import's mapping process does. Printed: CPU seconds
of dedup per 100,000 rows as the file goes on (it should not grow with the rows seen),
the rows found duplicate and possible, and their precision and recall on the truth.

    python bench/dedup_imports.py --rows 300000
    python bench/dedup_imports.py --rows 100000 --show 20    # print wrong verdicts
    python bench/dedup_imports.py --quick                    # 5,000 rows, for CI
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pickle
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from imports import HEADER, batch_source, generate  # noqa: E402

from crmsync.dedup.engine import DuplicateIndex  # noqa: E402
from crmsync.dedup.guard import DuplicateGuard, dedup_input  # noqa: E402
from crmsync.imports.options import DEFAULT_BATCH_SIZE  # noqa: E402
from crmsync.imports.readers import open_table  # noqa: E402
from crmsync.imports.settings import ImportSettings  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "crmsync-dedup-imports"
SEGMENT = 100_000

Batch = tuple[list[str], list[int], pl.DataFrame]  # keys, file row numbers, prepared


def _mapped(path: Path) -> list[Batch]:
    """The file's valid rows, batch by batch: their keys, file refs and prepared frame."""
    limits = ImportSettings()
    source = batch_source(path, limits)
    mapper = source.mapper()
    rows = list(open_table(path, path.name, limits).rows())
    out: list[Batch] = []
    for first in range(0, len(rows), DEFAULT_BATCH_SIZE):
        batch = source.map(mapper, rows[first : first + DEFAULT_BATCH_SIZE])
        assert batch.dedup is not None
        refs = [int(str(fields["external_ref"])[1:]) for _row, fields in batch.valid]
        out.append(([key for key, _f in batch.keyed()], refs, batch.dedup))
    return out


def load(rows: int) -> tuple[list[Batch], list[dict[str, Any]], list[int]]:
    CACHE.mkdir(exist_ok=True)
    cached = CACHE / f"leads-{rows}.pickle"
    if cached.exists():
        with cached.open("rb") as f:
            data: tuple[list[Batch], list[dict[str, Any]], list[int]] = pickle.load(f)  # noqa: S301 (written by this script)
        return data
    path = CACHE / f"leads-{rows}.csv"
    truth: list[int] = []
    existing = generate(path, rows, truth=truth)
    batches = _mapped(path)
    seeded = CACHE / f"seeded-{rows}.csv"
    with seeded.open("w", encoding="utf-8") as out:
        out.write(",".join(HEADER) + "\n")
        out.writelines(",".join(row) + "\n" for row in existing)
    seeded_rows = open_table(seeded, seeded.name, ImportSettings()).rows()
    source = batch_source(seeded, ImportSettings())
    mapped = source.map(source.mapper(), list(seeded_rows))
    inputs = [
        dedup_input(f"seed:{str(fields['external_ref'])[1:]}", fields)
        for _row, fields in mapped.valid
    ]
    data = (batches, inputs, truth)
    with cached.open("wb") as f:
        pickle.dump(data, f)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--show", type=int, default=0, help="wrong verdicts to print")
    parser.add_argument("--limit", type=int, default=0, help="check only the first rows")
    parser.add_argument("--profile-from", type=int, default=0,
                        help="cProfile the rows checked from this many on")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="a small file, for CI")
    parser.add_argument("--outcomes", type=Path, default=None,
                        help="write the verdicts here (JSON), to compare versions")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.rows = 5_000
    batches, inputs, truth = load(args.rows)
    if args.limit:
        batches = batches[: -(-args.limit // DEFAULT_BATCH_SIZE)]
    profile = cProfile.Profile(time.process_time) if args.profile_from else None
    guard = DuplicateGuard(DuplicateIndex.build(inputs))
    print(f"{args.rows:,} rows, {len(inputs):,} seeded contacts; load {os.getloadavg()}")
    found: dict[str, tuple[str, str, float]] = {}
    origin: dict[str, int] = {f"seed:{item['id'][5:]}": truth[int(item["id"][5:])]
                              for item in inputs}  # fmt: skip
    done, mark, segment_cpu, total = 0, SEGMENT, 0.0, 0.0
    for keys, refs, frame in batches:
        origin.update(zip(keys, (truth[r] for r in refs), strict=True))
        if profile is not None and done >= args.profile_from:
            profile.enable()
        start = time.process_time()
        found.update(guard.check_batch([(k, {}) for k in keys], frame))
        spent = time.process_time() - start
        if profile is not None:
            profile.disable()
        segment_cpu, total, done = segment_cpu + spent, total + spent, done + len(keys)
        if done >= mark or (keys is batches[-1][0]):
            print(f"  rows checked {done:>9,}: {segment_cpu:6.2f} s CPU for the last "
                  f"segment, {total:7.2f} s in all; load {os.getloadavg()[0]:.1f}")  # fmt: skip
            segment_cpu, mark = 0.0, mark + SEGMENT
    print(f"  dedup CPU {total:.2f} s in all; load {os.getloadavg()}")
    if args.outcomes is not None:
        args.outcomes.write_text(json.dumps(found, sort_keys=True, indent=0))
    quality(found, origin, args.show, batches)
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


def quality(found: dict[str, tuple[str, str, float]], origin: dict[str, int], show: int,
            batches: list[Batch]) -> None:  # fmt: skip
    seen: set[int] = {o for k, o in origin.items() if k.startswith("seed:")}
    true_dups = 0
    for keys, _refs, _frame in batches:
        for key in keys:
            true_dups += origin[key] in seen
            seen.add(origin[key])
    counts = {"duplicate": [0, 0], "possible": [0, 0]}
    wrong: list[tuple[str, str, str, float]] = []
    for key, (status, of, score) in found.items():
        right = origin[key] == origin[of]
        counts[status][0] += right
        counts[status][1] += 1
        if not right:
            wrong.append((status, key, of, score))
    for status, (right, n) in counts.items():
        print(f"  {status}: {n:,} rows, {right:,} right (precision {right / max(n, 1):.4f})")
    print(f"  rows that duplicate an earlier person: {true_dups:,}; found as duplicate "
          f"{counts['duplicate'][0] / true_dups:.4f}, as duplicate or possible "
          f"{(counts['duplicate'][0] + counts['possible'][0]) / true_dups:.4f}")  # fmt: skip
    if show:
        frames = {k: (frame, at) for keys, _r, frame in batches for at, k in enumerate(keys)}
        cols = ["first", "last", "email", "phone", "company", "city", "postcode"]
        for status, key, of, score in wrong[:show]:
            print(status, round(score, 3))
            for k in (key, of):
                if k in frames:
                    frame, at = frames[k]
                    print("   ", k, [frame[c][at] for c in cols])
                else:
                    print("   ", k)


if __name__ == "__main__":
    main()
