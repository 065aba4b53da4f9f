"""Field-by-field similarity of record pairs, computed in batches with rapidfuzz."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Hamming, JaroWinkler

Columns = Mapping[str, np.ndarray]

# below this many pairs, starting worker threads costs more than it saves
_PARALLEL_FROM = 20_000


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

    def __len__(self) -> int:
        return len(self.first)


def _present(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left != "") & (right != "")


def _pairwise(left: np.ndarray, right: np.ndarray, scorer: Any, scale: float) -> np.ndarray:
    workers = -1 if len(left) >= _PARALLEL_FROM else 1
    scores = process.cpdist(left, right, scorer=scorer, workers=workers, dtype=np.float32)
    return np.asarray(scores, dtype=np.float64) / scale


def _fuzzy(left: np.ndarray, right: np.ndarray, scorer: Any, scale: float = 1.0) -> np.ndarray:
    """Similarity where both sides are present, NaN elsewhere; only present pairs are scored."""
    out = np.full(len(left), np.nan)
    present = _present(left, right)
    if present.any():
        out[present] = _pairwise(left[present], right[present], scorer, scale)
    return out


def _exact(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    out = np.where(left == right, 1.0, 0.0)
    out[~_present(left, right)] = np.nan
    return out


def _dob(left: Columns, right: Columns) -> np.ndarray:
    """1 same date; 0.9 one mistyped digit or day and month swapped; 0.5 near; else 0.

    Near is two mistyped digits or dates under ~two months apart (a guessed day).
    """
    out = np.full(len(left["dob"]), np.nan)
    present = _present(left["dob"], right["dob"])
    if not present.any():
        return out
    a, b = left["dob"][present], right["dob"][present]
    typos = _pairwise(a, b, Hamming.distance, 1.0)
    swapped = a == right["dob_swapped"][present]
    days = np.abs(
        left["dob_days"][present].astype(np.float64) - right["dob_days"][present].astype(np.float64)
    )
    near = (typos <= 2) | (days <= 62)
    out[present] = np.where(
        a == b, 1.0, np.where((typos <= 1) | swapped, 0.9, np.where(near, 0.5, 0.0))
    )
    return out


def _postcode(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """1 same; 0.8 one digit mistyped or two neighbours swapped; else 0."""
    out = np.full(len(left), np.nan)
    present = _present(left, right)
    if present.any():
        a, b = left[present], right[present]
        edits = _pairwise(a, b, OSA.distance, 1.0)
        out[present] = np.where(a == b, 1.0, np.where(edits <= 1, 0.8, 0.0))
    return out


def _first(left: Columns, right: Columns) -> np.ndarray:
    sim = _fuzzy(left["first"], right["first"], JaroWinkler.normalized_similarity)
    nickname = (left["first_canon"] == right["first_canon"]) & _present(
        left["first"], right["first"]
    )
    # "J" against "John": an initial agrees with the name it starts
    initial = (
        ((left["first_short"] != "") | (right["first_short"] != ""))
        & _present(left["first"], right["first"])
        & (left["first_initial"] == right["first_initial"])
    )
    sim = np.where(nickname, 1.0, sim)
    return np.where(initial & ~nickname, np.fmax(sim, 0.88), sim)


def compare(left: Columns, right: Columns) -> Similarities:
    """Similarities of pair k = (left[...][k], right[...][k]), all arrays aligned."""
    jw = JaroWinkler.normalized_similarity
    return Similarities(
        first=_first(left, right),
        last=_fuzzy(left["last"], right["last"], jw),
        first_cross=_fuzzy(left["first"], right["last"], jw),
        last_cross=_fuzzy(left["last"], right["first"], jw),
        email=_fuzzy(left["email"], right["email"], fuzz.ratio, 100.0),
        phone=_fuzzy(left["phone"], right["phone"], fuzz.ratio, 100.0),
        dob=_dob(left, right),
        city=_fuzzy(left["city"], right["city"], jw),
        company=_fuzzy(left["company"], right["company"], fuzz.token_sort_ratio, 100.0),
        email_domain=_exact(left["work_domain"], right["work_domain"]),
        postcode=_postcode(left["postcode"], right["postcode"]),
        address=_fuzzy(left["address"], right["address"], fuzz.ratio, 100.0),
        namesakes=np.minimum(
            left["namesakes"].astype(np.float64), right["namesakes"].astype(np.float64)
        ),
    )


def gather(cols: Columns, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The columns of `rows`, in that order."""
    return {name: values[rows] for name, values in cols.items()}
