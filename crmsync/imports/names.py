"""Splitting a full-name column into first and last name."""

from __future__ import annotations

from typing import Final

# Words that start a surname ("Ludwig van Beethoven", "Juan de la Cruz").
PARTICLES: Final = frozenset(
    {"van", "von", "de", "del", "della", "der", "den", "da", "das", "do", "dos", "di", "du",
     "la", "le", "ter", "ten", "st", "st.", "bin", "ibn", "al", "el", "mac", "y"}
)  # fmt: skip
# Words after the surname that belong to it ("John Smith Jr.").
SUFFIXES: Final = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "md"})


def split_full_name(full: str) -> tuple[str | None, str | None]:
    """(first, last): ``Last, First`` or ``First [Middle] [particles] Last [suffix]``.

    A single word is a first name. The surname starts at the first particle after the
    first word, else it is the last word (with a suffix such as ``Jr.`` kept on it).
    """
    text = " ".join(full.split())
    if not text:
        return None, None
    if "," in text:
        last, _, first = (part.strip() for part in text.partition(","))
        if first and last and first.lower().rstrip(".") not in {s.rstrip(".") for s in SUFFIXES}:
            return first, last
        text = text.replace(",", " ")
    words = text.split()
    if len(words) == 1:
        return words[0], None
    end = len(words)
    while end > 2 and words[end - 1].lower() in SUFFIXES:
        end -= 1
    start = next(
        (i for i in range(1, end - 1) if words[i].lower() in PARTICLES),
        end - 1,
    )
    return " ".join(words[:start]), " ".join(words[start:])
