"""Tables and properties for crmsync.quality.normalize."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.quality.normalize import (
    normal_emails,
    normalize_email,
    normalize_phone,
    remember_emails,
    strip_invisible,
)


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


def _reference_phone(value: str, region: str) -> str | None:
    """normalize_phone as it was before its shortcuts: phonenumbers on every input."""
    cleaned = strip_invisible(value).strip()
    if len(cleaned) > 64 or sum(ch.isdigit() for ch in cleaned) < 3:
        return None
    try:
        number = phonenumbers.parse(cleaned, region.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


REGIONS = ["US", "CA", "GB", "DE", "FR", "IT", "AR", "BR", "MX", "IN", "JP", "AU", "NL", "gb", ""]
_FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]
# Real numbers of many countries and kinds, written the ways people write them.
EXAMPLES = [
    phonenumbers.format_number(number, style)
    for region in REGIONS
    if region
    for kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
    )
    if (number := phonenumbers.example_number_for_type(region.upper(), kind)) is not None
    for style in _FORMATS
]


@st.composite
def phone_like(draw: st.DrawFn) -> str:
    """An example number with its separators rewritten and maybe a digit changed."""
    text = draw(st.sampled_from(EXAMPLES))
    chars = [
        draw(st.sampled_from([" ", "-", ".", "(", ")", "", "  "])) if ch in " -()" else ch
        for ch in text
    ]
    if draw(st.booleans()):
        spots = [i for i, ch in enumerate(chars) if ch.isdigit()]
        chars[draw(st.sampled_from(spots))] = str(draw(st.integers(0, 9)))
    prefix = draw(st.sampled_from(["", "", "1", "0", "00", "011", "+", "(", " "]))
    return prefix + "".join(chars)


@settings(deadline=None, max_examples=400)
@given(
    st.one_of(
        phone_like(),
        st.from_regex(r"\A\+?[0-9][0-9 ().\-]{0,18}\Z"),
        st.text(alphabet="0123456789+-() .x#/\u200b\u00a0", max_size=24),
    ),
    st.sampled_from(REGIONS),
)
def test_normalize_phone_answers_what_phonenumbers_answers(value: str, region: str) -> None:
    """The shortcuts (shared parse of separator variants, known E.164) change no answer."""
    assert normalize_phone(value, region) == _reference_phone(value, region)


@pytest.mark.parametrize("written", EXAMPLES)
def test_known_e164_answers_are_phonenumbers_answers(written: str) -> None:
    for region in ("US", "DE", ""):
        e164 = normalize_phone(written, region)
        if e164 is not None:  # the E.164 shortcut answers for it from now on
            assert normalize_phone(e164, region) == _reference_phone(e164, region) == e164


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aB.@ -:\u200b\u00a0xyz1"), max_size=20))
def test_an_email_answer_is_its_own_answer_and_known_as_such(raw: str) -> None:
    # the writer takes a remembered address as its own email key: that must be its answer
    answer = normalize_email(raw)
    if answer is None:
        return
    assert normalize_email(answer) == answer
    assert normal_emails([answer, None, 5]) == [answer]


def test_an_address_remembered_from_another_process_answers_itself() -> None:
    remember_emails(["told.once@acme.example"])
    assert normal_emails(["told.once@acme.example", "Told.Once@acme.example"]) == [
        "told.once@acme.example"
    ]
    assert normalize_email("told.once@acme.example") == "told.once@acme.example"
    assert normalize_email("Told.Once@ACME.example") == "told.once@acme.example"
