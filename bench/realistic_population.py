"""A generated CRM population shaped like a real one, with the truth of who is who.

Names follow the 1990 US census frequencies shipped in the `names` package (common
names repeat as in a national population: dozens of John Smiths and Maria Garcias in
100,000 people). People work at companies that share an e-mail domain, an e-mail
pattern, a city and a block of consecutive direct-dial phone lines. Families share a
surname, a street address and a home phone. Some people have a second or third record:

- a typo, a nickname, another phone format, a field left out (the easy ones);
- a job move: new company, new work e-mail and city, the same mobile phone;
- personal against work e-mail, with the same mobile phone;
- a married name: new surname, the same personal e-mail or mobile, the same address;

and the traps a real list holds: namesake colleagues (same name, same company,
neighbouring phone lines, e-mails told apart by a digit or pattern), fathers and sons
with one name at one address and home phone, spouses sharing a home phone.

`variant="heldout"` changes the mix (more families and moves, more typos, a flatter
name distribution, other e-mail patterns) for a figure the engine was not tuned on.

    python bench/realistic_population.py 1000 > people.jsonl
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from crmsync.dedup.engine.nicknames import _FORMS

Record = dict[str, Any]


@dataclass(frozen=True)
class Mix:
    """How often each kind of record and trap occurs."""

    duplicated: float  # people with 1-2 more records
    job_move: float  # of a duplicate: a new employer, same mobile
    personal_work: float  # of a duplicate: personal vs work e-mail, same mobile
    married: float  # of a duplicate (women): a new surname
    typo: float  # per name of a duplicate
    family: float  # people living with family (share address and home phone)
    junior: float  # of a family: a son with his father's name
    name_power: float  # name frequencies raised to this power (<1: flatter)
    missing: float  # per optional field of a record
    company_size: int  # mean employees per company


MIXES: dict[str, Mix] = {
    "tuned": Mix(0.22, 0.18, 0.15, 0.25, 0.25, 0.20, 0.15, 1.0, 0.15, 25),
    "heldout": Mix(0.28, 0.25, 0.20, 0.35, 0.35, 0.30, 0.20, 0.85, 0.22, 40),
}


@cache
def _census(kind: str) -> tuple[list[str], list[float]]:
    """Names and cumulative frequencies of one census list (`names` package files)."""
    import names  # the bench extra; only the generator reads these files

    path = Path(names.__file__).parent / f"dist.{kind}"
    found, cumulative, total = [], [], 0.0
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 2 or float(parts[1]) <= 0:
            continue
        total += float(parts[1])
        found.append(parts[0].lower())
        cumulative.append(total)
    return found, cumulative


class Names:
    """Draws first names and surnames by census frequency (optionally flattened)."""

    def __init__(self, rng: random.Random, power: float) -> None:
        self.rng = rng
        self.tables = {kind: self._table(kind, power) for kind in ("male.first", "female.first")}
        self.tables["last"] = self._table("all.last", power, limit=30_000)

    @staticmethod
    def _table(kind: str, power: float, limit: int | None = None) -> tuple[list[str], list[float]]:
        found, cumulative = _census(kind)
        found, cumulative = found[:limit], cumulative[:limit]
        freqs = [b - a for a, b in itertools.pairwise([0.0, *cumulative])]
        out, total = [], 0.0
        for f in freqs:
            total += f**power
            out.append(total)
        return found, out

    def draw(self, kind: str) -> str:
        found, cumulative = self.tables[kind]
        at = bisect.bisect_left(cumulative, self.rng.random() * cumulative[-1])
        return found[min(at, len(found) - 1)]


_WORDS = [
    "north",
    "summit",
    "harbor",
    "pine",
    "river",
    "oak",
    "cedar",
    "atlas",
    "blue",
    "apex",
    "first",
    "union",
    "prime",
    "metro",
    "bright",
    "stone",
    "iron",
    "eagle",
    "lake",
    "valley",
    "crest",
    "coastal",
    "golden",
    "silver",
    "pacific",
    "liberty",
    "heritage",
    "pioneer",
    "keystone",
    "evergreen",
    "granite",
    "maple",
    "horizon",
    "beacon",
]
_KINDS = [
    "mortgage",
    "lending",
    "realty",
    "insurance",
    "capital",
    "partners",
    "group",
    "financial",
    "homes",
    "advisors",
]
_CITIES = [
    "houston",
    "phoenix",
    "dallas",
    "austin",
    "denver",
    "chicago",
    "miami",
    "atlanta",
    "seattle",
    "boston",
    "tampa",
    "orlando",
    "charlotte",
    "nashville",
    "portland",
    "sacramento",
    "columbus",
    "indianapolis",
    "raleigh",
    "richmond",
    "tucson",
    "fresno",
    "omaha",
    "memphis",
    "louisville",
]
_STREETS = [
    "main",
    "oak",
    "maple",
    "cedar",
    "elm",
    "park",
    "pine",
    "lake",
    "hill",
    "washington",
    "lincoln",
    "church",
]
_FREE = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com")
_PATTERNS = ("{f}.{l}", "{fi}{l}", "{f}{li}", "{f}", "{f}_{l}", "{l}.{f}")
_NICK = {canon: forms for canon, forms in _FORMS.items()}


@dataclass
class Company:
    name: str
    domain: str
    pattern: str
    city: str
    block: int  # first direct-dial line
    lines: int = 0


@dataclass
class Person:
    pid: int
    first: str
    last: str
    female: bool
    company: Company
    work_email: str
    personal_email: str
    mobile: str
    office: str
    home: str | None
    address: str
    postcode: str
    city: str
    dob: str


class Population:
    def __init__(self, people: int, seed: int, variant: str) -> None:
        self.rng = random.Random(seed)
        self.mix = MIXES[variant]
        self.variant = variant
        self.names = Names(self.rng, self.mix.name_power)
        self.people = people
        self.companies: list[Company] = []
        self.used_emails: set[str] = set()

    # -- building blocks -------------------------------------------------------------
    def _phone(self) -> str:
        r = self.rng
        return f"+1{r.randint(201, 989)}{r.randint(200, 989)}{r.randint(0, 9999):04d}"

    def _company(self) -> Company:
        r = self.rng
        name = f"{r.choice(_WORDS).title()} {r.choice(_WORDS).title()} {r.choice(_KINDS).title()}"
        domain = name.lower().replace(" ", "")[:18] + r.choice((".com", ".com", ".net", ".us"))
        patterns = _PATTERNS if self.variant == "tuned" else (*_PATTERNS, "{f}{l}", "{fi}.{l}")
        block = int(f"{r.randint(201, 989)}{r.randint(200, 989)}") * 10_000 + r.randint(0, 90) * 100
        return Company(name, domain, r.choice(patterns), r.choice(_CITIES), block)

    def _pick_company(self) -> Company:
        # sizes skewed: a few large brokers, many small offices
        if not self.companies or self.rng.random() < 1 / self.mix.company_size:
            self.companies.append(self._company())
            return self.companies[-1]
        return self.companies[int(len(self.companies) * self.rng.random() ** 2.5)]

    def _unique(self, local: str, domain: str) -> str:
        """An address not yet taken: a namesake gets a digit, as mail systems do."""
        email = f"{local}@{domain}"
        n = 1
        while email in self.used_emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.used_emails.add(email)
        return email

    def _work_email(self, first: str, last: str, company: Company) -> str:
        local = company.pattern.format(f=first, l=last, fi=first[0], li=last[0])
        return self._unique(local, company.domain)

    def _personal_email(self, first: str, last: str) -> str:
        r = self.rng
        style = r.choice(("{f}.{l}{n}", "{f}{l}{n}", "{fi}{l}{n}", "{l}{f}{n}", "{f}_{n}"))
        n = r.choice(("", "", str(r.randint(1, 99)), str(r.randint(1950, 2005))))
        local = style.format(f=first, l=last, fi=first[0], n=n)
        return self._unique(local, r.choice(_FREE))

    def _office(self, company: Company) -> str:
        company.lines += 1
        number = company.block + company.lines
        return f"+1{number:010d}"

    def _dob(self, young: bool = False) -> str:
        r = self.rng
        year = r.randint(1985, 2002) if young else r.randint(1945, 1984)
        return f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

    def _home(self) -> tuple[str, str, str]:
        r = self.rng
        street = f"{r.randint(1, 9999)} {r.choice(_STREETS)} {r.choice(('st', 'ave', 'dr', 'ln'))}"
        return street, f"{r.randint(10000, 99999)}", r.choice(_CITIES)

    def _person(self, pid: int, first: str, last: str, female: bool, **shared: Any) -> Person:
        company = shared.get("company") or self._pick_company()
        address, postcode, city = shared.get("home_address") or self._home()
        return Person(
            pid=pid,
            first=first,
            last=last,
            female=female,
            company=company,
            work_email=self._work_email(first, last, company),
            personal_email=self._personal_email(first, last),
            mobile=self._phone(),
            office=self._office(company),
            home=shared.get("home_phone"),
            address=address,
            postcode=postcode,
            city=city if self.rng.random() < 0.5 else company.city,
            dob=shared.get("dob") or self._dob(),
        )

    def build_people(self) -> list[Person]:
        r, mix = self.rng, self.mix
        out: list[Person] = []
        while len(out) < self.people:
            female = r.random() < 0.5
            first = self.names.draw("female.first" if female else "male.first")
            last = self.names.draw("last")
            if r.random() >= mix.family:
                out.append(self._person(len(out), first, last, female))
                continue
            # a household: spouses (and a grown child) share address and home phone
            home = {"home_address": self._home(), "home_phone": self._phone()}
            out.append(self._person(len(out), first, last, female, **home))
            spouse_first = self.names.draw("male.first" if female else "female.first")
            out.append(self._person(len(out), spouse_first, last, not female, **home))
            if r.random() < 0.5:
                father_first = spouse_first if female else first
                junior = r.random() < mix.junior
                son = father_first if junior else self.names.draw("male.first")
                # a son at his parents' employer half the time
                company = out[-1].company if r.random() < 0.5 else None
                out.append(
                    self._person(
                        len(out), son, last, False, company=company, dob=self._dob(True), **home
                    )
                )
        # namesake colleagues: a common name hired twice at one company
        common_first = {n for kind in ("male.first", "female.first") for n in _census(kind)[0][:60]}
        common_last = set(_census("all.last")[0][:150])
        for person in list(out):
            common = person.first in common_first and person.last in common_last
            if len(out) < self.people * 1.04 and r.random() < (0.25 if common else 0.002):
                twin = self._person(
                    len(out), person.first, person.last, person.female, company=person.company
                )
                out.append(twin)
        return out

    # -- records -------------------------------------------------------------------
    def _typo(self, word: str) -> str:
        r = self.rng
        if len(word) < 4:
            return word
        i = r.randrange(1, len(word) - 1)
        kind = r.random()
        if kind < 0.4:
            return word[:i] + word[i + 1 :]
        if kind < 0.7:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        return word[:i] + r.choice("aeiourstnl") + word[i + 1 :]

    def _phone_format(self, e164: str) -> str:
        d = e164[2:]
        return self.rng.choice(
            (
                e164,
                f"({d[:3]}) {d[3:6]}-{d[6:]}",
                f"{d[:3]}-{d[3:6]}-{d[6:]}",
                f"{d[:3]}.{d[3:6]}.{d[6:]}",
            )
        )

    def record(self, p: Person, rid: str, *, email: str, phone: str | None, **over: Any) -> Record:
        r, mix = self.rng, self.mix
        rec: Record = {
            "id": rid,
            "person": p.pid,
            "first_name": over.get("first", p.first).title(),
            "last_name": over.get("last", p.last).title(),
            "email": email,
            "phone": self._phone_format(phone) if phone else None,
            "company": over.get("company", p.company).name,
            "city": over.get("city", p.city).title(),
            "address": p.address if r.random() < 0.5 else None,
            "postcode": p.postcode if r.random() < 0.5 else None,
            "dob": p.dob if r.random() < 0.12 else None,
        }
        for field in ("phone", "company", "city", "address", "postcode"):
            if r.random() < mix.missing:
                rec[field] = None
        return rec

    def first_record(self, p: Person, rid: str) -> Record:
        r = self.rng
        email = p.work_email if r.random() < 0.75 else p.personal_email
        roll = r.random()
        phone = p.office if roll < 0.35 else (p.home if p.home and roll < 0.5 else p.mobile)
        return self.record(p, rid, email=email, phone=phone)

    def duplicate(self, p: Person, rid: str, first: Record) -> Record:
        r, mix = self.rng, self.mix
        roll = r.random()
        over: dict[str, Any] = {}
        first_name = p.first
        if r.random() < mix.typo:
            first_name = self._typo(first_name)
        elif p.first in _NICK and r.random() < 0.5:
            first_name = r.choice(_NICK[p.first])
        over["first"] = first_name
        if r.random() < mix.typo * 0.6:
            over["last"] = self._typo(p.last)
        # what tells a job move or a personal address apart: the phone that stays with
        # them (left out of a tenth of such records, which no rule can then find)
        keeps_phone = r.random() < 0.9
        if roll < mix.job_move + mix.personal_work and keeps_phone:
            first["phone"] = self._phone_format(p.mobile)
        if roll < mix.job_move:
            company = self._pick_company()
            email = self._work_email(p.first, p.last, company)
            rec = self.record(
                p, rid, email=email, phone=p.mobile, company=company, city=company.city, **over
            )
            rec["kind"] = "job_move"
            rec["phone"] = self._phone_format(p.mobile) if keeps_phone else None
            return rec
        roll -= mix.job_move
        if roll < mix.personal_work:
            email = p.personal_email if first["email"] == p.work_email else p.work_email
            rec = self.record(p, rid, email=email, phone=p.mobile, **over)
            rec["kind"] = "personal_work"
            rec["phone"] = self._phone_format(p.mobile) if keeps_phone else None
            return rec
        roll -= mix.personal_work
        if p.female and roll < mix.married:
            over["last"] = self.names.draw("last")
            email = p.personal_email
            phone = p.mobile if r.random() < 0.7 or not p.home else p.home
            # what stays with her: her personal address or her own phone
            if r.random() < 0.5:
                first["email"] = p.personal_email
            elif first["phone"]:
                first["phone"] = self._phone_format(phone)
            rec = self.record(p, rid, email=email, phone=phone, **over)
            rec["address"] = p.address
            rec["kind"] = "married"
            return rec
        # the same contact entered again: same e-mail (its case may differ) or phone
        email = first["email"] if r.random() < 0.8 else p.work_email
        if r.random() < 0.2:
            email = email.upper() if r.random() < 0.5 else email.title()
        phone_source = first["phone"]
        phone = phone_source if phone_source and r.random() < 0.8 else p.mobile
        rec = self.record(p, rid, email=email, phone=None, **over)
        rec["phone"] = phone
        if r.random() < 0.3:  # one of the two identifiers left out
            rec["email" if r.random() < 0.5 else "phone"] = None
        rec["kind"] = "again"
        return rec

    def records(self) -> list[Record]:
        out: list[Record] = []
        for p in self.build_people():
            first = self.first_record(p, f"r{len(out)}")
            out.append(first)
            if self.rng.random() < self.mix.duplicated:
                for _ in range(1 if self.rng.random() < 0.75 else 2):
                    out.append(self.duplicate(p, f"r{len(out)}", first))
        self.rng.shuffle(out)
        return out


def population(people: int, seed: int = 7, variant: str = "tuned") -> list[Record]:
    """Records of `people` people (plus their extra records); `person` is the truth."""
    return Population(people, seed, variant).records()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("people", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--variant", choices=sorted(MIXES), default="tuned")
    args = parser.parse_args(argv)
    for rec in population(args.people, args.seed, args.variant):
        sys.stdout.buffer.write(orjson.dumps(rec) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
