"""Field-by-field similarity of record pairs, computed in batches with rapidfuzz."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Hamming, JaroWinkler

from crmsync.dedup.engine import frequency
from crmsync.dedup.engine.encoded import Encoded, cpdist_workers, decode

Columns = Mapping[str, np.ndarray]

# the most an email with another number in it can be alike
EMAIL_OTHER_NUMBER = 0.8
# how alike a namesake's address is taken to be (jsmith / jsmith2 at one domain)
EMAIL_NAMESAKE = 0.5

# How two different e-mail addresses differ (`Similarities.email_kind`); a typo or a
# missing address is NONE. Two addresses at one employer, or two personal ones, are
# two people's more often than one person's; a new employer's or a personal beside a
# work address is how one person's records differ (a job move, home and office).
EMAIL_NONE, EMAIL_SAME_EMPLOYER, EMAIL_BOTH_PERSONAL, EMAIL_OTHER_EMPLOYER, EMAIL_HOME_WORK = range(
    5
)
# below this similarity two addresses are different addresses, not a typo
EMAIL_DIFFERENT = 0.7


Codes = Mapping[str, np.ndarray]

# the text columns `compare` reads (with the numbers dob_days and namesakes)
COMPARED = (
    "first",
    "last",
    "first_canon",
    "first_short",
    "first_initial",
    "email",
    "email_digits",
    "work_domain",
    "phone",
    "dob",
    "dob_swapped",
    "city",
    "company",
    "postcode",
    "address",
)
# the columns whose codes `compare` reads when it is given codes, and the values it still
# reads then
CODE_COMPARED = COMPARED
COMPARED_WITH_CODES = tuple(
    c for c in COMPARED if c not in ("phone", "work_domain", "first_short", "first_initial")
)


@dataclass(frozen=True)
class Similarities:
    """Similarity 0-1 per field and pair; NaN where either side lacks the field."""

    first: np.ndarray
    last: np.ndarray
    first_cross: np.ndarray
    last_cross: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    dob: np.ndarray
    city: np.ndarray
    company: np.ndarray
    email_domain: np.ndarray
    postcode: np.ndarray
    address: np.ndarray
    # records sharing the rarer of the two exact names (1 when names are missing)
    namesakes: np.ndarray
    # prior share of people with the commoner first name / surname of the pair (0 unlisted)
    first_share: np.ndarray
    last_share: np.ndarray
    # how the two e-mail addresses differ (EMAIL_* above)
    email_kind: np.ndarray
    # either record has an e-mail or a phone (a contact, not a registry entry)
    reachable: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def _present(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left != "") & (right != "")


class _Pairs:
    """Both sides of the pairs: their values and, when the caller has them, their value
    codes (one dictionary per column, -1 for missing), which compare far cheaper than
    strings; presence and equality read the codes then, and the answers are the same."""

    def __init__(self, left: Columns, right: Columns, codes: tuple[Codes, Codes] | None) -> None:
        self.left, self.right, self.codes = left, right, codes

    def filled(self, side: int, name: str) -> np.ndarray:
        if self.codes is not None:
            return self.codes[side][name] >= 0
        return (self.left if side == 0 else self.right)[name] != ""

    def present(self, name: str, other: str | None = None) -> np.ndarray:
        """The left's `name` and the right's `other` (default: `name`) both present."""
        return self.filled(0, name) & self.filled(1, other or name)

    def equal(self, name: str) -> np.ndarray:
        if self.codes is not None:
            return self.codes[0][name] == self.codes[1][name]
        return self.left[name] == self.right[name]

    def fuzzy(self, name: str, other: str | None, scorer: Any, scale: float = 1.0) -> np.ndarray:
        """``_fuzzy`` of the left's `name` and the right's `other` (default: `name`)."""
        other = other or name
        return _fuzzy(self.left[name], self.right[other], scorer, scale, self.present(name, other))


def _pairwise(left: np.ndarray, right: np.ndarray, scorer: Any, scale: float) -> np.ndarray:
    workers = cpdist_workers(len(left))
    scores = process.cpdist(left, right, scorer=scorer, workers=workers, dtype=np.float32)
    return np.asarray(scores, dtype=np.float64) / scale


def _fuzzy(
    left: np.ndarray,
    right: np.ndarray,
    scorer: Any,
    scale: float = 1.0,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """Similarity where both sides are present, NaN elsewhere; only present pairs are scored."""
    out = np.full(len(left), np.nan)
    if present is None:
        present = _present(left, right)
    if present.any():
        out[present] = _pairwise(left[present], right[present], scorer, scale)
    return out


def _exact(pairs: _Pairs, name: str) -> np.ndarray:
    out = np.where(pairs.equal(name), 1.0, 0.0)
    out[~pairs.present(name)] = np.nan
    return out


def _dob(pairs: _Pairs) -> np.ndarray:
    """1 same date; 0.9 one mistyped digit or day and month swapped; 0.5 near; else 0.

    Near is two mistyped digits or dates under ~two months apart (a guessed day).
    """
    left, right = pairs.left, pairs.right
    out = np.full(len(left["dob"]), np.nan)
    present = pairs.present("dob")
    if not present.any():
        return out
    a, b = left["dob"][present], right["dob"][present]
    same = pairs.equal("dob")[present]
    typos = _pairwise(a, b, Hamming.distance, 1.0)
    swapped = a == right["dob_swapped"][present]
    days = np.abs(
        left["dob_days"][present].astype(np.float64) - right["dob_days"][present].astype(np.float64)
    )
    near = (typos <= 2) | (days <= 62)
    out[present] = np.where(
        same, 1.0, np.where((typos <= 1) | swapped, 0.9, np.where(near, 0.5, 0.0))
    )
    return out


def _postcode(pairs: _Pairs) -> np.ndarray:
    """1 same; 0.8 one digit mistyped or two neighbours swapped; else 0."""
    out = np.full(len(pairs.left["postcode"]), np.nan)
    present = pairs.present("postcode")
    if present.any():
        a, b = pairs.left["postcode"][present], pairs.right["postcode"][present]
        edits = _pairwise(a, b, OSA.distance, 1.0)
        out[present] = np.where(
            pairs.equal("postcode")[present], 1.0, np.where(edits <= 1, 0.8, 0.0)
        )
    return out


def _first(pairs: _Pairs) -> np.ndarray:
    sim = pairs.fuzzy("first", None, JaroWinkler.normalized_similarity)
    named = pairs.present("first")
    nickname = pairs.equal("first_canon") & named
    # "J" against "John": an initial agrees with the name it starts
    initial = (
        (pairs.filled(0, "first_short") | pairs.filled(1, "first_short"))
        & named
        & pairs.equal("first_initial")
    )
    sim = np.where(nickname, 1.0, sim)
    return np.where(initial & ~nickname, np.fmax(sim, 0.88), sim)


def _email(pairs: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Email similarity, and which pairs carry other numbers (jsmith12, jsmith45).

    Namesakes pick the same name with their own number, so similar addresses with
    different numbers point to two people more often than to a typo: their similarity is
    capped, and numbers more than one keystroke apart make them two addresses
    (``email_kind``), however alike the names in them are.
    """
    left, right = pairs.left, pairs.right
    sim = pairs.fuzzy("email", None, fuzz.ratio, 100.0)
    a, b = left["email_digits"], right["email_digits"]
    digits_differ = ~pairs.equal("email_digits")
    other_number = digits_differ & pairs.present("email_digits")
    sim = np.where(other_number, np.fmin(sim, EMAIL_OTHER_NUMBER), sim)
    addressed = pairs.present("email")
    numbered = np.flatnonzero(other_number & addressed)
    two_numbers = np.zeros(len(sim), dtype=bool)
    if len(numbered):
        typo = _pairwise(a[numbered], b[numbered], OSA.distance, 1.0) <= 1
        two_numbers[numbered[~typo]] = True
    # jsmith@ against jsmith2@ (or jsmith7@ / jsmith8@) at one domain: a mail system told
    # namesakes apart (addresses with two numbers are two addresses already, and their
    # capped similarity weighs what a namesake's does)
    numbered = np.flatnonzero(digits_differ & ~two_numbers & addressed)
    if len(numbered):
        # each distinct address once: an address stands in many pairs
        lefts, rights = left["email"][numbered], right["email"][numbered]
        distinct, at = np.unique(np.concatenate([lefts, rights]), return_inverse=True)
        stems = np.array([_stem(e) or "" for e in distinct.tolist()], dtype=object)[at]
        stem_l, stem_r = stems[: len(numbered)], stems[len(numbered) :]
        namesake = numbered[(stem_l != "") & (stem_l == stem_r)]
        sim[namesake] = np.fmin(sim[namesake], EMAIL_NAMESAKE)
    return sim, two_numbers


_DIGIT = re.compile(r"\d")  # any decimal digit, as str.isdecimal sees them


@lru_cache(maxsize=1 << 16)  # an address stands in many pairs, batch after batch
def _stem(email: str) -> str | None:
    """The local part without the number at its end (None when other digits are in it)."""
    local, _at, domain = email.partition("@")
    stem = local.rstrip("0123456789")
    return None if _DIGIT.search(stem) else stem + "@" + domain


def email_kind(
    left: Columns,
    right: Columns,
    sim: np.ndarray,
    two_numbers: np.ndarray | None = None,
    codes: tuple[Codes, Codes] | None = None,
) -> np.ndarray:
    """How two different addresses differ (EMAIL_*); EMAIL_NONE for alike or missing ones.

    Addresses are different below ``EMAIL_DIFFERENT``, or with ``two_numbers`` in them
    (``_email``)."""
    different = sim < EMAIL_DIFFERENT  # NaN (a missing address) compares False
    if two_numbers is not None:
        different |= two_numbers
    pairs = _Pairs(left, right, codes)
    work_l, work_r = pairs.filled(0, "work_domain"), pairs.filled(1, "work_domain")
    kind = np.where(
        work_l & work_r,
        np.where(pairs.equal("work_domain"), EMAIL_SAME_EMPLOYER, EMAIL_OTHER_EMPLOYER),
        np.where(work_l | work_r, EMAIL_HOME_WORK, EMAIL_BOTH_PERSONAL),
    )
    return np.where(different, kind, EMAIL_NONE).astype(np.int8)


def compare(
    left: Columns, right: Columns, codes: tuple[Codes, Codes] | None = None
) -> Similarities:
    """Similarities of pair k = (left[...][k], right[...][k]), all arrays aligned.

    ``codes``: both sides' value codes of the ``CODE_COMPARED`` columns (one dictionary
    per column, -1 for missing), when the caller has them; the values of those columns
    are then not read (``decode`` may leave them out: ``COMPARED_WITH_CODES``)."""
    jw = JaroWinkler.normalized_similarity
    pairs = _Pairs(left, right, codes)
    first, last = _first(pairs), pairs.fuzzy("last", None, jw)
    email, two_numbers = _email(pairs)
    # alike addresses at one employer of people whose names differ (frank johnson / frank
    # johnston): each address may follow its own name, so they prove nothing
    same_domain = pairs.filled(0, "work_domain") & pairs.equal("work_domain")
    names_differ = (first < 1.0) | (last < 1.0)  # NaN (a missing name) compares False
    email = np.where(
        same_domain & names_differ & (email < 1.0), np.fmin(email, EMAIL_OTHER_NUMBER), email
    )
    return Similarities(
        first=first,
        last=last,
        first_cross=pairs.fuzzy("first", "last", jw),
        last_cross=pairs.fuzzy("last", "first", jw),
        email=email,
        # numbers in E.164: equal or not; consecutive office lines are different lines
        phone=_exact(pairs, "phone"),
        dob=_dob(pairs),
        city=pairs.fuzzy("city", None, jw),
        company=pairs.fuzzy("company", None, fuzz.token_sort_ratio, 100.0),
        email_domain=_exact(pairs, "work_domain"),
        postcode=_postcode(pairs),
        address=pairs.fuzzy("address", None, fuzz.ratio, 100.0),
        namesakes=np.minimum(
            left["namesakes"].astype(np.float64), right["namesakes"].astype(np.float64)
        ),
        first_share=frequency.shares("first", left["first_canon"], right["first_canon"]),
        last_share=frequency.shares("last", left["last"], right["last"]),
        email_kind=email_kind(left, right, email, two_numbers, codes),
        reachable=pairs.filled(0, "email")
        | pairs.filled(0, "phone")
        | pairs.filled(1, "email")
        | pairs.filled(1, "phone"),
    )


def gather(cols: Columns, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The columns of `rows`, in that order."""
    return {name: values[rows] for name, values in cols.items()}


def compare_coded(enc: Encoded, left: np.ndarray, right: np.ndarray) -> Similarities:
    """``compare`` of the pairs of `enc`'s rows `left[k]`-`right[k]`, its presence and
    equality tests on the value codes."""
    codes = (
        {name: enc.codes[name][left] for name in CODE_COMPARED},
        {name: enc.codes[name][right] for name in CODE_COMPARED},
    )
    return compare(
        decode(enc, left, COMPARED_WITH_CODES), decode(enc, right, COMPARED_WITH_CODES), codes
    )
