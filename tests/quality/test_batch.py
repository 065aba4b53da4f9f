"""The vectorised batch path gives exactly the per-record path's results."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crmsync.quality.batch import BatchResult, process_frame, process_records
from crmsync.quality.batch_email import fast_emails
from crmsync.quality.batch_phone import fast_phones, normalize_phones
from crmsync.quality.cleansing import CleansingOptions
from crmsync.quality.normalize import normalize_email, normalize_phone
from crmsync.quality.validation import FieldRule, RecordRule, RuleSet
from crmsync.quality.validation_defaults import default_rules

COLUMNS = ("first_name", "last_name", "email", "phone", "status", "budget_min", "city", "notes")
# Hand-picked awkward values, mixed with random text by the generators below.
AWKWARD = [
    " JOHN ", "van der berg", "O'NEIL", "McDonald", "\u200bann", "é", "  ", "", "a  b",
    " Ann@GMIAL.com", "MAILTO:x@y.io", "a..b@x.com", "ann@example", "x@hotmial.com ",
    "(415) 555-2671", "+1 415 555 2671", "1-212-736-5000", "555-0100", "+44 20 7946 0018",
    "(647) 744-8802", "12", "NEW", "LOST", "new", "100", "-5", "1,000", "1e3", "\t7\n", "\ufeff",
]  # fmt: skip
RULES = RuleSet(
    fields=(
        *default_rules("leads").fields,
        FieldRule(field="city", rule="required", severity="warning"),
        FieldRule(field="city", rule="regex", pattern="[A-Za-z ]+"),
        FieldRule(field="notes", rule="min_length", min=2),
        FieldRule(field="notes", rule="date", severity="warning"),
        FieldRule(field="budget_min", rule="range", min=0, max=500),
        FieldRule(field="missing", rule="required"),
    ),
    records=(RecordRule(fields=("email", "phone")),),
)


def assert_same(batch: BatchResult, reference: BatchResult) -> None:
    batch, reference = batch.sorted(), reference.sorted()
    assert_frame_equal(batch.cleaned, reference.cleaned, check_dtypes=False)
    assert_frame_equal(batch.changes, reference.changes)
    assert_frame_equal(batch.suggestions, reference.suggestions)
    assert_frame_equal(batch.issues, reference.issues)


def random_frame(seed: int, rows: int) -> pl.DataFrame:
    rng = random.Random(seed)
    alphabet = "abcXYZ @.+-()019 '\u200b\u00e9\u00a0"

    def value() -> str | None:
        roll = rng.random()
        if roll < 0.1:
            return None
        if roll < 0.6:
            return rng.choice(AWKWARD)
        if roll < 0.8:
            digits = "".join(rng.choice("0123456789") for _ in range(10))
            return rng.choice(["({}) {}-{}", "+1 {} {} {}", "{}.{}.{}"]).format(
                digits[:3], digits[3:6], digits[6:]
            )
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    data = {c: [value() for _ in range(rows)] for c in COLUMNS}
    return pl.DataFrame(data, schema=dict.fromkeys(COLUMNS, pl.Utf8))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "options",
    [CleansingOptions(), CleansingOptions(trim=False, names=False, region="GB"),
     CleansingOptions(invisible=False, email=False, phone=False, email_typos=False)],
)  # fmt: skip
def test_batch_equals_per_record_on_random_data(seed: int, options: CleansingOptions) -> None:
    frame = random_frame(seed, 400)
    assert_same(
        process_frame(frame, RULES, options), process_records(frame.to_dicts(), RULES, options)
    )


ROWS = st.lists(
    st.fixed_dictionaries({c: st.one_of(st.none(), st.sampled_from(AWKWARD), st.text(max_size=8))
                           for c in COLUMNS}),
    min_size=1, max_size=20,
)  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_batch_equals_per_record_property(rows: list[dict[str, str | None]]) -> None:
    rows = [{c: row[c] for c in COLUMNS} for row in rows]  # the frame's column order
    frame = pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.Utf8))
    assert_same(process_frame(frame, RULES), process_records(rows, RULES))


def test_batch_reports_changes_suggestions_and_issues() -> None:
    frame = pl.DataFrame({"first_name": [" JOHN "], "email": ["Ann@GMIAL.com"], "phone": ["12"]})
    result = process_frame(frame, default_rules("contacts"))
    assert result.cleaned.row(0) == ("John", "ann@gmial.com", "12")
    assert result.changes["reason"].to_list() == [
        "whitespace trimmed", "name capitalised", "e-mail address normalised"
    ]  # fmt: skip
    assert result.suggestions["suggestion"].to_list() == ["ann@gmail.com"]
    assert result.issues.select("field", "rule", "severity").rows() == [
        ("phone", "phone", "warning")
    ]


def test_batch_takes_text_columns_only() -> None:
    with pytest.raises(TypeError, match="takes text"):
        process_frame(pl.DataFrame({"budget_min": [1, 2]}), RULES)


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(st.lists(st.one_of(st.none(), st.text(), st.sampled_from(AWKWARD)), max_size=30))
def test_fast_emails_agree_with_normalize_email(values: list[str | None]) -> None:
    frame = fast_emails(pl.Series(values, dtype=pl.Utf8))
    for value, decided, email in zip(values, frame["decided"], frame["email"], strict=True):
        if decided:
            assert email == normalize_email(value)


def test_fast_phones_agree_with_normalize_phone() -> None:
    rng = random.Random(7)
    values = []
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([10, 10, 11])))
        values.append(rng.choice(["{}", "+{}", " ({}) ", "1 {}"]).format(digits))
    for region in ("US", "GB"):
        fast = fast_phones(pl.Series(values), region).to_list()
        decided = [(v, e) for v, e in zip(values, fast, strict=True) if e is not None]
        assert len(decided) > (100 if region == "US" else 0)
        assert all(normalize_phone(v, region) == e for v, e in decided)


@pytest.mark.parametrize("region", ["US", "GB"])
def test_normalize_phones_answers_what_normalize_phone_answers(region: str) -> None:
    rng = random.Random(11)
    values = [*AWKWARD, "\u00a0(415) 555-2671", "415\u200b555\u200b2671", "+1 (206) 5x5"]
    for _ in range(500):
        line = "".join(rng.choice("0123456789") for _ in range(rng.choice([4, 4, 5])))
        number = rng.choice(["206", "415", "020", "44"]) + str(rng.randint(200, 999)) + line
        values.append(
            rng.choice(["{}", "+{}", " ({}) ", "1-{}", "+1{}", "{} ext 12"]).format(number)
        )
    answers = normalize_phones(values, region)
    assert answers.keys() == set(values)
    assert answers == {v: normalize_phone(v, region) for v in values}
    assert sum(e is not None for e in answers.values()) > 50  # both paths gave numbers
