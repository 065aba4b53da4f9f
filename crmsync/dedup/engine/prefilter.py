"""A cheap first look at candidate pairs, so full scoring only sees plausible ones.

Blocking on names puts every John Smith of a city next to each other; most such pairs
share nothing but the name. A pair goes on to full scoring when it shares an exact email,
phone, birth date or address, when the names are alike and something else agrees, or
when two other fields agree.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from crmsync.dedup.engine.encoded import Encoded, cpdist_workers, same, similarity
from crmsync.dedup.engine.settings import DedupSettings

# dates this many (approximate) days apart still hint at one person
_NEAR_DAYS = 62
_DAYS_A_YEAR = 372  # the encoding's year: 12 months of 31 days
# emails this alike hint at a typo
_EMAIL_ALIKE = 0.85


def _mean_present(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    counts = (~np.isnan(a)).astype(np.int64) + (~np.isnan(b)).astype(np.int64)
    total = np.nan_to_num(a) + np.nan_to_num(b)
    return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def name_similarity(enc: Encoded, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Name similarity as scoring sees it (nicknames, swaps), from distinct name pairs."""
    jw = JaroWinkler.normalized_similarity
    first = similarity(enc, ("first", "first"), left, right, jw)
    first = np.where(same(enc, "first_canon", left, right), 1.0, first)
    last = similarity(enc, ("last", "last"), left, right, jw)
    straight = _mean_present(first, last)
    # swapped names are only worth comparing where the initials cross over
    first_a = _initials(enc, "first", left)
    last_a = _initials(enc, "last", left)
    first_b = _initials(enc, "first", right)
    last_b = _initials(enc, "last", right)
    cross = np.flatnonzero(
        (first_a == last_b) & (last_a == first_b) & (first_a >= 0) & (last_a >= 0)
    )
    crossed = np.full(len(left), np.nan)
    lo, hi = left[cross], right[cross]
    crossed[cross] = (
        similarity(enc, ("first", "last"), lo, hi, jw)
        + similarity(enc, ("last", "first"), lo, hi, jw)
    ) / 2
    return np.fmax(straight, crossed)


def _initials(enc: Encoded, column: str, rows: np.ndarray) -> np.ndarray:
    """Code point of the first letter of `column` per row (-1 when missing)."""
    return enc.initials[column][enc.codes[column][rows]]


def _dob_near(enc: Encoded, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b = enc.dob_days[left], enc.dob_days[right]
    near = np.zeros(len(left), dtype=bool)
    both = np.flatnonzero(~np.isnan(a) & ~np.isnan(b))  # most files have no birth dates
    a, b = a[both], b[both]
    apart = np.abs(a - b)
    same_day = (np.mod(a, _DAYS_A_YEAR) == np.mod(b, _DAYS_A_YEAR)) & (apart <= 10 * _DAYS_A_YEAR)
    near[both] = (apart <= _NEAR_DAYS) | same_day
    return near


def worth_scoring(
    enc: Encoded, left: np.ndarray, right: np.ndarray, settings: DedupSettings
) -> np.ndarray:
    """Which candidate pairs could possibly be duplicates.

    Integer comparisons come first; the string similarities (names, compared once per
    distinct pair of names, then a mistyped email) only for pairs whose fate depends on them.
    """
    keep = (
        same(enc, "email", left, right)
        | same(enc, "phone", left, right)
        | same(enc, "dob", left, right)
        | same(enc, "address", left, right)
    )
    rest = np.flatnonzero(~keep)
    lo, hi = left[rest], right[rest]
    hints = (
        same(enc, "city", lo, hi).astype(np.int8)
        + same(enc, "company", lo, hi)
        + same(enc, "work_domain", lo, hi)
        + same(enc, "postcode", lo, hi)
        + _dob_near(enc, lo, hi)
    )
    # names changed or missing: several other fields agreeing still deserve a look
    keep[rest[hints >= 2]] = True
    # nothing else agrees: alike names and a mistyped email, the last hint worth its cost
    # (the e-mails are looked at first: hardly any such pair has alike ones, while most
    # have alike names, and the names cost more to compare)
    none = np.flatnonzero(
        (hints == 0) & (enc.codes["email"][lo] >= 0) & (enc.codes["email"][hi] >= 0)
    )
    typo = none[_email_alike(enc, lo[none], hi[none])]
    # one agreeing field, or a mistyped e-mail: the names must be alike too
    named = np.concatenate([np.flatnonzero(hints == 1), typo])
    keep[rest[named]] = _alike(enc, lo[named], hi[named], settings)
    return keep


def _alike(
    enc: Encoded, left: np.ndarray, right: np.ndarray, settings: DedupSettings
) -> np.ndarray:
    return np.nan_to_num(name_similarity(enc, left, right), nan=0.0) >= settings.name_threshold


def _email_alike(enc: Encoded, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Emails (both present) at least 0.85 alike; nearly every pair of them is distinct,
    so they are compared directly."""
    values = enc.values["email"]
    scores = process.cpdist(
        values[enc.codes["email"][left]],
        values[enc.codes["email"][right]],
        scorer=fuzz.ratio,
        score_cutoff=_EMAIL_ALIKE * 100 - 0.01,
        workers=cpdist_workers(len(left)),
        dtype=np.float32,
    )
    return np.asarray(scores, dtype=np.float64) / 100.0 >= _EMAIL_ALIKE
