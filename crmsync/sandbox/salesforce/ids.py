"""Salesforce record ids: 15 case-sensitive characters plus a 3-character suffix.

The first three characters are the object's key prefix (``00Q`` Lead, ``003``
Contact ...). The suffix encodes which of the 15 characters are upper case, so the
18-character id survives case-insensitive tools; clients may rely on that.
"""

from __future__ import annotations

import itertools

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# The two characters after the key prefix name the server "pod" in real orgs.
_POD = "8c"


def checksum(id15: str) -> str:
    """The 3-character case-safety suffix of a 15-character id."""
    suffix = ""
    for start in (0, 5, 10):
        flags = 0
        for bit, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                flags |= 1 << bit
        suffix += _SUFFIX[flags]
    return suffix


def to18(id15: str) -> str:
    """The 18-character form of a 15- or 18-character id."""
    return id15 if len(id15) == 18 else id15 + checksum(id15)


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    return digits.rjust(width, "0")


class IdFactory:
    """Makes unique 18-character ids for any key prefix."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def new(self, key_prefix: str) -> str:
        """A fresh id for an object with `key_prefix`."""
        return to18(key_prefix + _POD + _base62(next(self._counter), 10))


def normalise(record_id: str) -> str:
    """Accept 15- or 18-character ids in URLs, always answer with 18."""
    return to18(record_id) if len(record_id) == 15 else record_id
