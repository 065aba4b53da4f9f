"""Synthetic contacts with realistic noise, and the truth of who is who.

About a fifth of the people get one to three extra records, each with the kind of noise
CRM data has: typos, nicknames, first and last name swapped, other phone formats, the
same company domain shared by colleagues, missing fields. Every record carries `person`
(the same for all records of one person), which the engine never reads.

    python bench/gen_contacts.py 1000 > contacts.jsonl
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from typing import Any

import orjson

from crmsync.dedup.engine.nicknames import _FORMS

_SYLLABLES = [
    "an",
    "ar",
    "be",
    "bo",
    "ca",
    "ch",
    "da",
    "de",
    "el",
    "en",
    "er",
    "fa",
    "ga",
    "ha",
    "he",
    "ho",
    "in",
    "ja",
    "ke",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "ni",
    "no",
    "ol",
    "or",
    "pa",
    "pe",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "so",
    "st",
    "ta",
    "te",
    "th",
    "ti",
    "to",
    "tr",
    "va",
    "ve",
    "wa",
    "we",
    "wi",
    "ya",
]
_COMMON_FIRST = [*_FORMS, "olivia", "emma", "ava", "sophia", "mia", "noah", "liam", "ethan"]
_COMMON_LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
]
_CITIES = [
    "new york",
    "los angeles",
    "chicago",
    "houston",
    "phoenix",
    "philadelphia",
    "san antonio",
    "san diego",
    "dallas",
    "austin",
    "jacksonville",
    "columbus",
    "charlotte",
    "indianapolis",
    "seattle",
    "denver",
    "boston",
    "nashville",
    "portland",
    "las vegas",
    "detroit",
    "memphis",
    "louisville",
    "baltimore",
    "milwaukee",
    "albuquerque",
    "tucson",
]
_FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")


def _invented(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


class NameBook:
    """First and last names with a long tail: common ones often, invented ones rarely."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.first = _COMMON_FIRST + [_invented(rng, 2) for _ in range(3000)]
        self.last = _COMMON_LAST + [_invented(rng, rng.choice((2, 3))) for _ in range(60000)]
        self.companies = [
            _invented(rng, 2) + rng.choice(("corp", "labs", "co", "")) for _ in range(20000)
        ]

    def pick(self, names: list[str], head: int) -> str:
        # a third of people carry one of the common names, the rest the long tail
        if self.rng.random() < 0.33:
            return names[self.rng.randrange(head)]
        return names[self.rng.randrange(len(names))]


def _typo(rng: random.Random, value: str | None) -> str | None:
    if value is None or len(value) < 3:
        return value
    i = rng.randrange(1, len(value) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return value[:i] + value[i + 1 :]
    if kind == 1:
        return value[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + value[i:]
    if kind == 2:
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    return value[:i] + rng.choice("aeiou") + value[i + 1 :]


def _phone_formats(digits: str) -> list[str]:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"1{a}{b}{c}"]


def person(rng: random.Random, book: NameBook, number: int) -> dict[str, Any]:
    first = book.pick(book.first, len(_COMMON_FIRST))
    last = book.pick(book.last, len(_COMMON_LAST))
    company = book.companies[rng.randrange(len(book.companies))]
    domain = f"{company}.com" if rng.random() < 0.6 else rng.choice(_FREE_MAIL)
    digits = f"{rng.randrange(201, 990)}{rng.randrange(201, 999)}{rng.randrange(10000):04d}"
    year, month, day = rng.randrange(1940, 2006), rng.randrange(1, 13), rng.randrange(1, 29)
    return {
        "person": number,
        "first_name": first.title(),
        "last_name": last.title(),
        "email": f"{first[0]}{last}{rng.randrange(100)}@{domain}",
        "phone": rng.choice(_phone_formats(digits)),
        "company": company.title() + rng.choice(("", " Inc", " LLC")),
        "city": rng.choice(_CITIES).title(),
        "dob": f"{year:04d}-{month:02d}-{day:02d}",
    }


def noisy_copy(rng: random.Random, original: dict[str, Any]) -> dict[str, Any]:
    """Another record of the same person, as a second system or a typist entered it."""
    copy = dict(original)
    first = copy["first_name"].lower()
    roll = rng.random()
    if roll < 0.15 and first in _FORMS and _FORMS[first]:
        copy["first_name"] = rng.choice(_FORMS[first]).title()
    elif roll < 0.25:
        copy["first_name"], copy["last_name"] = copy["last_name"], copy["first_name"]
    elif roll < 0.55:
        field = rng.choice(("first_name", "last_name"))
        copy[field] = _typo(rng, copy[field])
    if copy["phone"] and rng.random() < 0.3:
        digits = "".join(ch for ch in copy["phone"] if ch.isdigit())[-10:]
        copy["phone"] = rng.choice(_phone_formats(digits))
    if rng.random() < 0.2:
        copy["email"] = _typo(rng, copy["email"])
    for field in ("email", "phone", "company", "city", "dob"):
        if rng.random() < 0.2:
            copy[field] = None
    if rng.random() < 0.15:
        copy["first_name"] = copy["first_name"].upper()
    return copy


def contacts(size: int, seed: int = 7, duplicate_share: float = 0.2) -> Iterator[dict[str, Any]]:
    """`size` contacts with ids c0, c1, ...; records of one person share `person`."""
    rng = random.Random(seed)
    book = NameBook(rng)
    made = 0
    number = 0
    while made < size:
        original = person(rng, book, number)
        number += 1
        records = [original]
        if rng.random() < duplicate_share:
            records += [noisy_copy(rng, original) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        for record in records[: size - made]:
            yield {"id": f"c{made}", **record}
            made += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int, nargs="?", default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = sys.stdout.buffer
    for record in contacts(args.size, args.seed):
        out.write(orjson.dumps(record) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
