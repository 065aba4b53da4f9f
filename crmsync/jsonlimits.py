"""Limits on JSON that crmsync accepts from outside: numbers, nesting, strings.

Every JSON value that enters (an API body, a webhook delivery, a JSON import, a record's
free-form ``custom_fields``) must be one that every store and every reader can hold and
give back unchanged: PostgreSQL refuses NUL characters and unpaired surrogates in text
and JSONB, orjson writes only 64-bit integers, and NaN/Infinity have no JSON form at all
(they would come back as ``null``). PostgreSQL's JSONB also writes a number such as
1e300 out digit by digit, so it comes back as an integer: integers must lie within the
signed 64-bit range, and other numbers within ±1e18. Refusing such values at the edge, by
name, keeps them out of the database, where one bad row would break every read of a page
holding it.

``loads`` parses with these limits; ``check`` applies them to a value parsed elsewhere.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1
FLOAT_MAX: Final = 1e18  # numbers that are not integers: well inside the 64-bit range


@dataclass(frozen=True)
class Limits:
    max_depth: int = 32  # nested objects/arrays
    max_string: int = 100_000  # characters in one string value
    max_key: int = 255  # characters in one object key


DEFAULT: Final = Limits()


class JsonRefused(ValueError):
    """A JSON value outside the limits; ``path`` says where (``a.b[2]``)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


def loads(data: bytes | str, limits: Limits = DEFAULT) -> Any:
    """Parse JSON text within ``limits``; ``JsonRefused`` when it is not valid or too much."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise JsonRefused("not UTF-8 text") from None
    try:
        # NaN, Infinity, 1e999 and 2**64 parse to values ``check`` then refuses by place.
        value = json.loads(text)
    except RecursionError:
        raise JsonRefused(f"nested deeper than {limits.max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise JsonRefused("integer outside the 64-bit range") from None
    check(value, limits)
    return value


def _check_text(text: str, limit: int, what: str, path: str) -> None:
    if len(text) > limit:
        raise JsonRefused(f"{what} longer than {limit} characters", path)
    if "\x00" in text:
        raise JsonRefused(f"{what} holds a NUL character", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused(f"{what} holds an unpaired surrogate", path) from None


def _text_ok(text: str, limit: int) -> bool:
    if len(text) > limit or "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _within(value: Any, limits: Limits, plain: bool) -> bool:
    """Whether ``value`` is within the limits: the fast pass, which keeps no paths.

    A 1,000-item batch is walked on every request, so scalars are judged inline and only
    containers go on the stack; ``check`` walks again, naming the place, only on failure.
    """
    max_string, max_key, max_depth = limits.max_string, limits.max_key, limits.max_depth
    stack: list[tuple[Any, int]] = [([value], -1)]
    while stack:
        container, depth = stack.pop()
        if depth >= max_depth:
            return False
        if type(container) is dict:
            for key in container:
                if type(key) is str:
                    # _text_ok inlined: a record's every key and value is judged here
                    if len(key) > max_key or "\x00" in key:
                        return False
                    if not key.isascii() and not _text_ok(key, max_key):
                        return False
                elif plain:
                    return False
            children = container.values()
        else:
            children = container
        for item in children:
            kind = type(item)
            if kind is str:
                if len(item) > max_string or "\x00" in item:
                    return False
                if not item.isascii() and not _text_ok(item, max_string):
                    return False
            elif kind is int:
                if not INT_MIN <= item <= INT_MAX:
                    return False
            elif kind is float:
                if not -FLOAT_MAX <= item <= FLOAT_MAX:  # NaN fails every comparison
                    return False
            elif kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif item is None or kind is bool:
                continue
            elif plain or isinstance(item, int | float | str | dict | list):
                return False  # a subclass (an enum, a str subclass): judged slowly
    return True


def check(value: Any, limits: Limits = DEFAULT, path: str = "", *, plain: bool = True) -> None:
    """Refuse a value that is not plain JSON within ``limits`` (iteratively: no recursion).

    With ``plain=False`` values of other types (dates, decimals, ids from a connector or a
    reader) pass as they are, for a typed validator to judge; the limits still apply.
    """
    if _within(value, limits, plain):
        return
    _locate(value, limits, path, plain)


def _locate(value: Any, limits: Limits, path: str, plain: bool) -> None:
    """The slow pass: raise ``JsonRefused`` naming where the value breaks a limit."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):  # bool was taken above
            if not INT_MIN <= item <= INT_MAX:
                raise JsonRefused("integer outside the 64-bit range", where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise JsonRefused("NaN and Infinity are not JSON numbers", where)
            if abs(item) > FLOAT_MAX:
                # PostgreSQL's JSONB writes 1e300 out in full, so it would read back as an
                # integer too large for any JSON writer. Near 2**63 the shortest decimal
                # of a double can round past it (-9.223372036854776e18), hence the margin.
                raise JsonRefused(f"number beyond ±{FLOAT_MAX:.0e}", where)
        elif isinstance(item, str):
            _check_text(item, limits.max_string, "string", where)
        elif isinstance(item, dict | list):
            if depth >= limits.max_depth:
                raise JsonRefused(f"nested deeper than {limits.max_depth} levels", where)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(item, dict):
                    if isinstance(key, str):
                        _check_text(key, limits.max_key, "key", where)
                    elif plain:
                        raise JsonRefused("object keys must be strings", where)
                    at = f"{where}.{key}" if where else str(key)
                else:
                    at = f"{where}[{key}]"
                stack.append((child, at, depth + 1))
        elif plain:
            raise JsonRefused(f"{type(item).__name__} is not a JSON value", where)
