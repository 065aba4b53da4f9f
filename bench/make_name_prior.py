"""Writes crmsync/dedup/engine/name_prior.tsv: the shipped name-frequency prior.

Source: the 1990 US census name lists in the `names` package (bench extra): per cent
of people with each first name (men and women, averaged, as half the population each)
and each surname. Only the commonest names are kept: the weight of an agreeing name
only changes for names more frequent than the reference frequencies in
`crmsync.dedup.engine.frequency`, and every name not listed is treated as rare.

    python bench/make_name_prior.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import names

OUT = Path(__file__).resolve().parent.parent / "crmsync" / "quality" / "dedup" / "name_prior.tsv"
KEEP = {"first": 1_000, "last": 2_000}


def _read(kind: str) -> list[tuple[str, float]]:
    path = Path(names.__file__).parent / f"dist.{kind}"
    return [
        (parts[0].lower(), float(parts[1]) / 100)
        for parts in (line.split() for line in path.read_text().splitlines())
        if len(parts) >= 2
    ]


def main() -> int:
    first: dict[str, float] = defaultdict(float)
    for kind in ("male.first", "female.first"):
        for name, share in _read(kind):
            first[name] += share / 2
    tables = {"first": first, "last": dict(_read("all.last"))}
    lines = ["# kind\tname\tper million people (1990 US census name lists)"]
    for kind, table in tables.items():
        ranked = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[: KEEP[kind]]
        lines += [f"{kind}\t{name}\t{round(share * 1e6)}" for name, share in ranked]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(lines) - 1} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
