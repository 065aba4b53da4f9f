"""Tables and properties for crmsync.quality.normalize."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.quality.normalize import normalize_email, normalize_phone, strip_invisible


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("john@example.com", "john@example.com"),
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("\u200bjane@example.com\ufeff", "jane@example.com"),
        ("jane\u00ad@example.com", "jane@example.com"),
        ("\u00a0a+tag@sub.example.co.uk\u00a0", "a+tag@sub.example.co.uk"),
        ("MAILTO:Bob@Example.org", "bob@example.org"),
        ("o'neil@example.ie", "o'neil@example.ie"),
        ("", None),
        ("   ", None),
        (None, None),
        ("not an email", None),
        ("john@", None),
        ("@example.com", None),
        ("john@example", None),
        ("john..doe@example.com", None),
        (".john@example.com", None),
        ("john@-example.com", None),
        ("john@example.c", None),
        ("john doe@example.com", None),
        ("john@@example.com", None),
        ("a" * 65 + "@example.com", None),
        ("john@" + "a" * 250 + ".com", None),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ],
)
def test_normalize_email(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("+1 415 555 2671", "GB", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("\u200b415 555 2671\u00a0", "US", "+14155552671"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("020 7946 0018", "gb", "+442079460018"),
        ("07911 123456", "GB", "+447911123456"),
        ("0044 20 7946 0018", "DE", "+442079460018"),
        ("030 12345678", "DE", "+493012345678"),
        ("415 555 2671 ext. 12", "US", "+14155552671"),
        ("555-0100", "US", None),
        ("12", "US", None),
        ("", "US", None),
        (None, "US", None),
        ("call me", "US", None),
        ("+999 123 456", "US", None),
        ("1" * 80, "US", None),
    ],
)
def test_normalize_phone(raw: str | None, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


def test_normalize_phone_default_region_is_us() -> None:
    assert normalize_phone("(212) 736-5000") == "+12127365000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("a\u200bb", "ab"),
        ("a\u00a0b", "a b"),
        ("a\x00b\x07", "ab"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("\ufeffbom", "bom"),
        ("Zo\u00eb", "Zo\u00eb"),
    ],
)
def test_strip_invisible(raw: str, expected: str) -> None:
    assert strip_invisible(raw) == expected


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(st.text())
def test_normalizers_never_crash_and_are_idempotent(value: str) -> None:
    email = normalize_email(value)
    assert email is None or normalize_email(email) == email
    phone = normalize_phone(value)
    assert phone is None or (phone.startswith("+") and normalize_phone(phone) == phone)
    assert strip_invisible(strip_invisible(value)) == strip_invisible(value)
