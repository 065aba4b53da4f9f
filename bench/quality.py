"""Benchmark: validate N rows x 8 columns of messy lead data with the default lead rules.

Prints the validation rate (``validate_record``, as imports run it row by row), how many
rows fail and warn, and the top-1 accuracy of mapping suggestions on the header table.

    python bench/quality.py            # 1,000,000 rows
    python bench/quality.py --quick    # 50,000 rows, for CI
    python bench/quality.py --rows 200000
"""

from __future__ import annotations

import argparse
import csv
import random
import time
import unicodedata
from collections import Counter
from pathlib import Path

import polars as pl

from crmsync.mapping.suggest import suggest_mappings
from crmsync.quality.validation import validate_record
from crmsync.quality.validation_defaults import default_rules

FULL_ROWS = 1_000_000
QUICK_ROWS = 50_000
HEADERS = Path(__file__).parent.parent / "tests" / "mapping" / "data" / "header_spellings.csv"

FIRST = ["james", "Mary", "JOHN", "patricia", "Robert", "jennifer", "Michael", "linda", "david",
         "Elizabeth", "william", "BARBARA", "Richard", "susan", "joseph", "Jessica", "thomas",
         "Sarah", "charles", "karen", "Chris", "nancy", "Daniel", "lisa", "Matthew", "Zoë",
         "josé", "Siobhán", "mary-jane", "jean-luc"]  # fmt: skip
LAST = ["smith", "JOHNSON", "Williams", "brown", "Jones", "garcia", "MILLER", "davis",
        "rodriguez", "Martinez", "o'neil", "mcdonald", "van der berg", "DE LA CRUZ", "Nguyen",
        "lee", "Walker", "hall", "Allen", "young", "d'angelo", "MacLeod", "King", "wright",
        "lópez", "Hill", "scott", "Green", "adams", "Baker"]  # fmt: skip
DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com",
           "example.com", "acme.io", "realty-group.com", "gmial.com", "hotmial.com"]  # fmt: skip
AREAS = [201, 202, 206, 212, 213, 214, 215, 305, 310, 312, 404, 415, 469, 512, 617, 646, 702,
         713, 718, 773, 801, 818, 917, 954, 972]  # fmt: skip
CITIES = ["Austin", "new york", "  San Francisco ", "CHICAGO", "Los  Angeles", "Seattle",
          "miami", "Boston", "denver", "Phoenix"]  # fmt: skip
STATUSES = ["NEW", "CONTACTED", "QUALIFIED", "VIEWING_SCHEDULED", "VIEWED", "NEGOTIATING",
            "CONVERTED", "LOST", "new", "Open"]  # fmt: skip


def _phone(rng: random.Random) -> str:
    roll = rng.random()
    line = f"{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    area = rng.choice(AREAS)
    if roll < 0.35:
        return f"({area}) {line[:3]}-{line[3:]}"
    if roll < 0.6:
        return f"+1 {area} {line[:3]} {line[3:]}"
    if roll < 0.8:
        return f"{area}.{line[:3]}.{line[3:]}"
    if roll < 0.95:
        return f"1-{area}-{line[:3]}-{line[3:]}"
    if roll < 0.98:
        return f"+44 20 7946 {rng.randint(0, 9999):04d}"
    return rng.choice(["555-0100", "n/a", "12", "call me"])


def _email(rng: random.Random, first: str, last: str, index: int) -> str:
    roll = rng.random()
    # addresses are ASCII even when names are not (josé -> jose)
    ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
    local = f"{ascii_name.decode()}{index}".replace(" ", "").replace("'", "")
    if roll < 0.02:
        return f"{local}@"
    email = f"{local}@{rng.choice(DOMAINS)}"
    if roll < 0.3:
        return f" {email.upper()} "
    return email.lower() if roll < 0.9 else email


def make_frame(rows: int, seed: int = 42) -> pl.DataFrame:
    """Messy leads: odd casing and spacing, typos, invalid e-mails/phones, bad statuses."""
    rng = random.Random(seed)
    columns = ("first_name", "last_name", "email", "phone", "city", "status", "budget_min", "notes")
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    for index in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        data["first_name"].append(f" {first} " if rng.random() < 0.1 else first)
        data["last_name"].append(last)
        data["email"].append(_email(rng, first, last, index) if rng.random() < 0.95 else None)
        data["phone"].append(_phone(rng) if rng.random() < 0.9 else None)
        data["city"].append(rng.choice(CITIES))
        data["status"].append(rng.choice(STATUSES))
        data["budget_min"].append(str(rng.randrange(50_000, 2_000_000, 1000)))
        data["notes"].append(rng.choice(["", "call after 5pm", "  prefers  email ", None]))
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.Utf8))


def header_accuracy() -> tuple[int, int]:
    with HEADERS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    hits = sum(
        suggest_mappings([r["header"]], None, r["object_type"])[0].target == r["expected"]
        for r in rows
    )
    return hits, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    args = parser.parse_args()
    rows = QUICK_ROWS if args.quick else args.rows
    rules = default_rules("leads")

    started = time.perf_counter()
    frame = make_frame(rows)
    print(
        f"generated {rows:,} rows x {frame.width} columns in {time.perf_counter() - started:.1f} s"
    )
    records = frame.to_dicts()
    # CPU time beside wall time: on a shared machine the wall clock also counts waiting
    started, cpu = time.perf_counter(), time.process_time()
    results = [validate_record(record, rules) for record in records]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    failing = sum(not r.valid for r in results)
    warned = sum(bool(r.warnings) for r in results)
    print(f"validation: {rows / elapsed:>10,.0f} rows/s  ({elapsed:.2f} s wall, "
          f"{cpu:.2f} s CPU = {rows / cpu:,.0f} rows per CPU-second)")  # fmt: skip
    print(f"  {failing:,} rows with errors, {warned:,} with warnings; by field and rule:")
    issues = Counter(
        (i.field, i.rule, i.severity.value) for r in results for i in (*r.errors, *r.warnings)
    )
    for (field, rule, severity), count in issues.most_common():
        print(f"    {field:<12} {rule:<16} {severity:<8} {count:>8,}")

    hits, total = header_accuracy()
    print(f"mapping suggestions: {hits}/{total} header spellings top-1 = {hits / total:.1%}")


if __name__ == "__main__":
    main()
