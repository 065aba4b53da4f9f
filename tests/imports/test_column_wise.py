"""A batch mapped and checked a column at a time answers what each row alone does.

``RowMapper.map_batch`` coerces a batch through ``CompiledMapping.apply_batch`` and takes
the rows ``payloads.plain_rows`` finds plain as ``parse_fields``' answer without a model
validation; these hold the answers equal to ``map`` (one row, the model's validation), at
any cut of the rows, on messy cells.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.imports.rowmap import RowMapper
from crmsync.imports.valuemaps import UnknownValue, ValueMap
from crmsync.mapping.engine import compile_inbound
from crmsync.mapping.model import FieldMapping, MappingSet, ObjectMapping
from crmsync.mapping.schema import FieldType, ObjectType
from crmsync.records.errors import RecordInvalid
from crmsync.records.payloads import in_schema_order, parse_fields, plain_rows
from crmsync.records.schemas import PLAIN_TEXT

# text near the edges of what is plain: spaces at the ends, doubled, tabs, NUL,
# invisible and non-ASCII characters, a lone surrogate, empty, and long
TEXT = st.one_of(
    st.sampled_from(
        ["a", "Ann", " Ann", "Ann ", "A  n", "A\tn", "A\x00n", "Zoë", "A\u200bn", "\ud800", ""]
    ),
    st.text(alphabet=st.sampled_from("ab ~\t\x7f\x00é"), max_size=6),
    st.integers(18, 22).map(lambda n: "x" * n),
    st.integers(99, 101).map(lambda n: "y" * n),
    st.sampled_from([None, 5, 1.5, True, ["a"], {"k": "v"}]),
)


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    record_type = draw(st.sampled_from(sorted(PLAIN_TEXT)))
    names = [*PLAIN_TEXT[record_type], "custom_fields", "id"]
    rows = draw(
        st.lists(
            st.dictionaries(st.sampled_from(names), TEXT, max_size=5),
            min_size=1,
            max_size=8,
        )
    )
    # most rows plain, so that whole columns pass too
    plain_text = st.text(alphabet="abc xyz-.@", min_size=1, max_size=8).map(
        lambda t: t.strip() or "a"
    )
    fill = draw(st.lists(st.dictionaries(st.sampled_from(names[:4]), plain_text), max_size=8))
    return record_type, rows + fill


@settings(max_examples=400, deadline=None)
@given(payloads(), st.randoms(use_true_random=False))
def test_a_plain_payload_is_parse_fields_own_answer(
    case: tuple[str, list[dict[str, Any]]], rng: Any
) -> None:
    record_type, rows = case
    rng.shuffle(rows)
    plain = plain_rows(record_type, rows)
    assert plain == [plain_rows(record_type, [row])[0] for row in rows]  # any cut
    for row, fast in zip(rows, plain, strict=True):
        try:
            parsed = parse_fields(record_type, row)
        except RecordInvalid:
            assert not fast, row
            continue
        if fast:
            assert in_schema_order(record_type, row) == parsed
            assert list(in_schema_order(record_type, row)) == list(parsed)
            assert all(type(v) is str for v in parsed.values())


TRICKY = [
    "a", "Ann", " Ann", "Ann ", " ", "A  n", "A\tn", "A\nn", "A\x00n", "A\x7fn", "Zoë",
    "A\u200bn", "A\u00a0n", "\ud800", "", "x" * 20, "x" * 21, "x" * 50, "x" * 51,
    "x" * 100, "x" * 101, "x" * 255, "x" * 256, "x" * 100_001, None, 5, True, ["a"],
]  # fmt: skip


def test_every_plain_field_takes_only_what_parse_fields_keeps() -> None:
    """Each plain text field of every record type, with values at every edge, alone and as
    a column of a batch (one bad value among plain ones, and the plain ones alone)."""
    for record_type, limits in PLAIN_TEXT.items():
        for name in limits:
            rows = [{name: value} for value in TRICKY]
            for plain in (
                plain_rows(record_type, rows),
                [plain_rows(record_type, [r])[0] for r in rows],
            ):
                for row, fast in zip(rows, plain, strict=True):
                    try:
                        parsed = parse_fields(record_type, row)
                    except RecordInvalid:
                        assert not fast, (record_type, row)
                        continue
                    if fast:
                        assert list(in_schema_order(record_type, row).items()) == list(
                            parsed.items()
                        )
                    value = row[name]
                    if type(value) is str and value.isascii() and value.isprintable():
                        # printable ASCII: plain exactly when kept as it is
                        assert fast == (parsed == row and value != ""), (record_type, row)
            kept = [r for r, fast in zip(rows, plain_rows(record_type, rows), strict=True) if fast]
            assert plain_rows(record_type, kept) == [True] * len(kept)


def test_plain_text_needs_no_strip_and_fits() -> None:
    rows = [
        {"first_name": "Ann", "email": "a@b.co"},
        {"first_name": "Ann "},
        {"first_name": " Ann"},
        {"first_name": "x" * 101},
        {"postal_code": "1" * 20},
        {"postal_code": "1" * 21},
        {"external_ref": ""},
        {"first_name": "Zoë"},
        {"custom_fields": {}},
        {"contact_type": "lead"},
    ]
    expected = [True, False, False, False, True, False, False, False, False, False]
    assert plain_rows("contacts", rows) == expected


CELLS = {
    "ref": ["r1", "", " r2 ", "'=r3"],
    "name": ["john smith", "MARY  ANN o'neil", "", "Zoë", "  "],
    "first": ["john", "JOHN", "", "Jo\u200bhn", "x" * 101],
    "email": ["j.smith@acme.com", " J@Acme.com ", "bad at acme.com", "", "m@x.example"],
    "phone": ["4155550100", "(415) 555-0100", "12-34", "", "+44 20 7946 0958"],
    "stage": ["Lead", "lead", "customer", "", "Unknown", "  Lead "],
    "zip": ["12345", "1" * 21, "", " 123 "],
    "score": ["5", "x", "", "1e400", "45%"],
}
COLUMNS = {
    "ref": "external_ref",
    "name": "full_name",
    "first": "first_name",
    "email": "email",
    "phone": "phone",
    "stage": "contact_type",
    "zip": "postal_code",
    "score": "engagement_score",
}
ROWS = st.lists(
    st.fixed_dictionaries({c: st.sampled_from(v) for c, v in CELLS.items()}),
    min_size=1,
    max_size=12,
)


def _answer(mapped: Any) -> Any:
    return (list(mapped.fields.items()), mapped.problems, mapped.parsed)


@settings(max_examples=150, deadline=None)
@given(
    rows=ROWS,
    cut=st.integers(1, 5),
    cleanse=st.booleans(),
    validate=st.booleans(),
    keep=st.booleans(),
    value_map=st.booleans(),
)
def test_a_batch_maps_as_each_row_alone(
    rows: list[dict[str, str]],
    cut: int,
    cleanse: bool,
    validate: bool,
    keep: bool,
    value_map: bool,
) -> None:
    maps = {"stage": ValueMap(values={"Lead": "lead"}, unknown=UnknownValue.KEEP)}
    mapper = RowMapper(
        "contacts",
        COLUMNS,
        cleanse=cleanse,
        validate=validate,
        keep_invalid=keep,
        value_maps=maps if value_map else None,
    )
    alone = [_answer(mapper.map(dict(row))) for row in rows]
    batched = []
    for start in range(0, len(rows), cut):
        batched += [_answer(m) for m in mapper.map_batch([dict(r) for r in rows[start:][:cut]])]
    assert batched == alone


VALUES = st.sampled_from(
    ["", "  ", "x", " x ", "12", "1,5", "45%", "true", "no", "2024-02-30", "2024-02-03",
     "a@b.co", "not mail", "4155550100", "12-34", None, [], 0, 7, 2.5, True,
     Decimal("1.5"), date(2024, 1, 2), {"a": 1}]
)  # fmt: skip
TYPES = [
    FieldType.STRING,
    FieldType.NUMBER,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.EMAIL,
    FieldType.PHONE,
]


@settings(max_examples=150, deadline=None)
@given(
    types=st.lists(st.sampled_from(TYPES), min_size=1, max_size=6),
    records=st.lists(st.lists(VALUES, min_size=6, max_size=6), max_size=8),
)
def test_a_batch_coerces_as_each_record_alone(
    types: list[FieldType], records: list[list[Any]]
) -> None:
    fields = [
        FieldMapping(source=f"custom_fields.f{i}", target=f"c{i}" if i % 2 else f"c.{i}", type=kind)
        for i, kind in enumerate(types)
    ]
    mapping = MappingSet(
        provider="import",
        objects={ObjectType.CONTACTS: ObjectMapping(remote_object="file", fields=fields)},
    )
    compiled = compile_inbound(mapping, "contacts")
    assert compiled.by_column
    # a header with a dot is read as a path, as ``apply`` reads it
    rows = [
        {f"c{i}" if i % 2 else f"c.{i}": v for i, v in enumerate(values) if i != 5}
        for values in records
    ]
    assert compiled.apply_batch(rows) == [compiled.apply(row) for row in rows]


def test_a_batch_runs_only_the_field_checks_that_can_find_a_problem() -> None:
    rules = RowMapper("contacts", COLUMNS).rules
    # first names all fit, no row sets a type or a score: only the postal codes are checked
    rows = [{"first_name": "Ann", "email": "a@b.co", "postal_code": "1" * 21}, {"first_name": "Bo"}]
    assert [name for name, *_rest in rules.field_checks_for(rows)] == ["postal_code"]
    rows[1]["first_name"] = "x" * 101
    rows[1]["engagement_score"] = 7
    assert [name for name, *_rest in rules.field_checks_for(rows)] == [
        "first_name",
        "engagement_score",
        "postal_code",
    ]
    problems: list[Any] = []
    rules.check(rows[0], problems, checks=rules.field_checks_for([rows[0]]))
    assert [(p.field, p.rule) for p in problems] == [("postal_code", "max_length")]
