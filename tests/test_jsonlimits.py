"""``jsonlimits``: the fast pass and the path-naming pass judge every value alike."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync import jsonlimits
from crmsync.jsonlimits import DEFAULT, Limits, _locate, _within

SMALL = Limits(max_depth=4, max_string=8, max_key=4)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**65), 2**65)
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["a\x00", "\ud800", "é" * 9])
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(value=VALUES, plain=st.booleans())
def test_the_fast_pass_agrees_with_the_one_that_names_the_place(value: Any, plain: bool) -> None:
    fast = _within(value, SMALL, plain)
    try:
        _locate(value, SMALL, "", plain)
        slow = True
    except jsonlimits.JsonRefused:
        slow = False
    assert fast == slow


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (b'{"a": {"b": [1, 2, 9223372036854775808]}}', "a.b[2]"),
        (b'{"a": NaN}', "a"),
        (b'{"a": "x\\u0000"}', "a"),
        (b'{"a": [' + b"[" * 40 + b"]" * 40 + b"]}", None),
        (b"[" + b"9" * 5000 + b"]", ""),
        (b"\xff", ""),
    ],
)
def test_loads_refuses_and_says_where(text: bytes, where: str | None) -> None:
    with pytest.raises(jsonlimits.JsonRefused) as refused:
        jsonlimits.loads(text, DEFAULT)
    if where is not None:
        assert refused.value.path == where
