"""Capitalisation of personal names that knows particles and prefixes.

``JOHN MCDONALD`` -> ``John McDonald``, ``o'neil`` -> ``O'Neil``,
``van der berg`` -> ``van der Berg``, ``DE LA CRUZ`` -> ``de la Cruz``. A name that
already mixes upper and lower case is taken as deliberate and left alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# Lower-case nobiliary and family-name particles (Dutch, German, French, Spanish,
# Portuguese, Italian, Arabic).
PARTICLES: Final = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "la", "le", "du", "da", "das", "dos",
     "di", "y", "ter", "ten", "zu", "bin", "ibn", "al"}
)  # fmt: skip
_UPPER_SUFFIXES: Final = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "md", "phd"})


def _upper_first(word: str) -> str:
    """Upper-case the first letter, wherever it is (``"(john"`` -> ``"(John"``).

    A letter with no one-letter capital (``ß`` -> ``SS``) is left as it is: ``SS`` would
    read as an upper-case name and be changed again on the next pass.
    """
    for index, char in enumerate(word):
        if char.isalpha():
            upper = char.upper()
            if len(upper) != 1:
                return word
            return word[:index] + upper + word[index + 1 :]
    return word


def _capitalise_word(word: str) -> str:
    lower = word.lower()
    if lower in _UPPER_SUFFIXES:
        return lower.upper()
    if lower.startswith("mc") and len(lower) > len("mc"):
        return "Mc" + _upper_first(lower[2:])
    return _upper_first(lower)


def _capitalise_piece(piece: str) -> str:
    """One run of letters with apostrophes/hyphens inside (``o'neil``, ``mary-jane``)."""
    parts = re.split(r"(['\u2019-])", piece)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a separator
            out.append(part)
            continue
        previous = parts[index - 2] if index >= 2 else ""
        after_apostrophe = index >= 1 and parts[index - 1] in "'\u2019"
        if after_apostrophe and len(previous) != 1:
            # "jo's" stays lower after the apostrophe; "o'neil" and "d'angelo" do not
            out.append(part.lower())
        else:
            out.append(_capitalise_word(part))
    return "".join(out)


def capitalise_name(value: str) -> str:
    """Capitalised name; values that already mix cases are returned unchanged."""
    # ASCII that is neither all upper nor all lower case mixes cases or has no letter:
    # left as it is either way (most names of a file, decided without the cache)
    if value.isascii() and not value.isupper() and not value.islower():
        return value
    return _capitalise_name(value)


@lru_cache(maxsize=1 << 16)
def _capitalise_name(value: str) -> str:
    letters = [ch for ch in value if ch.isalpha()]
    if not letters:
        return value
    has_upper = any(ch.isupper() for ch in letters)
    has_lower = any(ch.islower() for ch in letters)
    if has_upper and has_lower:
        return value
    words = value.split(" ")
    last = max((i for i, w in enumerate(words) if w), default=-1)
    several = sum(1 for w in words if w) > 1
    out: list[str] = []
    for index, word in enumerate(words):
        # a particle is lower case, except as the family name itself ("Van", "De")
        if several and index != last and word.lower() in PARTICLES:
            out.append(word.lower())
        else:
            out.append(_capitalise_piece(word))
    return " ".join(out)
