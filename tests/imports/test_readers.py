"""Every awkward file of the corpus gives a clear outcome: rows, row problems or a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmsync.imports.csv_reader import sniff_delimiter
from crmsync.imports.encoding import detect_encoding
from crmsync.imports.errors import FileTooLarge, ImportProblem, UnreadableFile
from crmsync.imports.json_reader import CHUNK
from crmsync.imports.readers import open_table
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import EXTRA
from tests.imports import corpus

LIMITS = ImportSettings(data_dir=Path("unused"))
KEYS = ("first_name", "last_name", "email", "phone")
PEOPLE = [
    dict(zip(KEYS, ("Ana", "Lima", "ana@example.com", "+1 212 555 0134"), strict=True)),
    dict(zip(KEYS, ("Bo", "Chen", "bo@example.com", "+1 312 555 0188"), strict=True)),
]


def read(path: Path, limits: ImportSettings = LIMITS, **kwargs: str) -> tuple[object, list]:
    reader = open_table(path, path.name, limits, **kwargs)
    return reader.info, list(reader.rows())


@pytest.mark.parametrize(
    ("name", "fmt", "encoding", "delimiter"),
    [
        ("bom_utf8", "csv", "utf-8-sig", ","),
        ("utf16", "csv", "utf-16", ","),
        ("semicolons", "csv", "utf-8", ";"),
        ("pipes", "csv", "utf-8", "|"),
        ("tabs", "tsv", "utf-8", "\t"),
        ("blank_lines", "csv", "utf-8", ","),
    ],
)
def test_text_files_read_the_same_people(
    tmp_path: Path, name: str, fmt: str, encoding: str, delimiter: str
) -> None:
    info, rows = read(corpus.CORPUS[name](tmp_path))
    assert (info.format, info.encoding, info.delimiter) == (fmt, encoding, delimiter)
    assert info.headers == ["first_name", "last_name", "email", "phone"]
    assert [r.values for r in rows] == PEOPLE
    assert [r.number for r in rows] == [0, 1]
    assert all(r.problem is None for r in rows)


def test_cp1252_names_keep_their_accents(tmp_path: Path) -> None:
    info, rows = read(corpus.cp1252_names(tmp_path))
    assert info.encoding == "cp1252"
    assert [(r.values["first_name"], r.values["last_name"]) for r in rows] == [
        ("José", "Müller"),
        ("Zoë", "Dvorák"),
    ]


def test_quoted_newlines_stay_inside_their_cell(tmp_path: Path) -> None:
    _, rows = read(corpus.quoted_newlines(tmp_path))
    assert rows[0].values["notes"] == "line one\nline two, with comma"
    assert rows[1].values == {"name": "Bo", "notes": "x", "email": "bo@example.com"}
    assert [r.line for r in rows] == [3, 4]


def test_blank_lines_are_skipped_but_lines_still_point_into_the_file(tmp_path: Path) -> None:
    _, rows = read(corpus.blank_lines(tmp_path))
    assert [r.line for r in rows] == [5, 8]


def test_duplicated_and_empty_headers_are_renamed_with_warnings(tmp_path: Path) -> None:
    info, rows = read(corpus.duplicated_headers(tmp_path))
    assert info.headers == ["email", "email_2", "column_3", "name"]
    assert len(info.warnings) == 2
    assert rows[0].values["email_2"] == "b@example.com"


def test_ragged_rows_are_problems_of_their_own_row(tmp_path: Path) -> None:
    _, rows = read(corpus.ragged(tmp_path))
    assert [r.problem for r in rows] == [
        "expected 4 fields, found 2",
        "expected 4 fields, found 5",
        None,
    ]
    assert rows[1].values[EXTRA] == ["extra"]


def test_a_reports_footer_lines_are_not_rows(tmp_path: Path) -> None:
    # a Salesforce report export ends with totals and a notice: they failed as rows
    path = tmp_path / "report.csv"
    path.write_text(
        "Lead ID,Email,Phone\r\n"
        "00Q1,ana@example.com,(415) 555-2671\r\n"
        "only-one-cell\r\n"
        "00Q2,bo@example.com,(212) 555-0134\r\n"
        '""\r\n'
        '"Grand Totals (2 records)"\r\n'
        '"Confidential Information - Do Not Distribute"\r\n'
        '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\r\n',
        encoding="utf-8",
    )
    reader = open_table(path, path.name, LIMITS)
    rows = list(reader.rows())
    # a one-cell line with rows after it is still a row of the wrong width
    assert [(r.line, r.problem) for r in rows] == [
        (2, None),
        (3, "expected 3 fields, found 1"),
        (4, None),
    ]
    assert reader.count_rows() == 3


def test_a_thousand_columns_read_and_a_lower_cap_refuses_them(tmp_path: Path) -> None:
    path = corpus.wide(tmp_path)
    info, rows = read(path)
    assert len(info.headers) == 1000
    assert rows[0].values["col999"] == "999"
    with pytest.raises(FileTooLarge, match="1000 columns; at most 500"):
        read(path, ImportSettings(data_dir=Path("unused"), max_columns=500))


def test_a_row_cap_refuses_longer_files(tmp_path: Path) -> None:
    with pytest.raises(FileTooLarge, match="more than 1 rows"):
        read(corpus.bom_utf8(tmp_path), ImportSettings(data_dir=Path("unused"), max_rows=1))


def test_a_two_megabyte_cell_fails_its_row_only(tmp_path: Path) -> None:
    _, rows = read(corpus.big_cell(tmp_path))
    assert rows[0].problem is not None
    assert "'notes' has 2097152 characters" in rows[0].problem
    assert rows[1].problem is None


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("empty", UnreadableFile, "empty"),
        ("binary", UnreadableFile, "binary data"),
        ("xlsx_bomb", FileTooLarge, "uncompressed"),
        ("xlsx_entities", UnreadableFile, "XML entities"),
        ("xls_named_xlsx", UnreadableFile, "not an Excel workbook"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    tmp_path: Path, name: str, error: type[ImportProblem], message: str
) -> None:
    with pytest.raises(error, match=message):
        read(corpus.CORPUS[name](tmp_path))


def test_xlsx_reads_the_first_or_a_named_sheet(tmp_path: Path) -> None:
    path = corpus.xlsx(tmp_path)
    info, rows = read(path)
    assert (info.format, info.sheet) == ("xlsx", "Leads")
    assert [r.values["Email"] for r in rows] == ["ana@example.com", "bo@example.com"]
    info, rows = read(path, sheet="Other")
    assert [r.values for r in rows] == [{"Email": "cy@example.com"}]
    with pytest.raises(UnreadableFile, match="no sheet named 'Nope'"):
        read(path, sheet="Nope")


def test_json_arrays_flatten_nested_objects(tmp_path: Path) -> None:
    info, rows = read(corpus.json_array(tmp_path))
    assert info.headers == ["email", "name.first", "tags", "score"]
    assert rows[1].values == {"email": "bo@example.com", "name.first": "Bo", "score": 12.5}


def test_json_lines_report_bad_lines_per_row(tmp_path: Path) -> None:
    info, rows = read(corpus.json_lines(tmp_path))
    assert info.format == "jsonl"
    assert [r.values.get("email") for r in rows] == [
        "ana@example.com",
        None,
        None,
        "bo@example.com",
    ]
    assert rows[1].problem is not None and rows[1].problem.startswith("invalid JSON")
    assert rows[2].problem == "not a JSON object"


def test_json_arrays_stream_across_read_chunks(tmp_path: Path) -> None:
    items = [{"email": f"p{i}@example.com", "n": i, "pad": "x" * 50} for i in range(CHUNK // 40)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(items))
    _, rows = read(path)
    assert [r.values["n"] for r in rows] == list(range(len(items)))


def test_a_truncated_json_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"email": "a@example.com"}, {"email": ')
    with pytest.raises(UnreadableFile, match="invalid JSON"):
        read(path)


@pytest.mark.parametrize(
    ("sample", "filename", "expected"),
    [
        ("a,b,c\n1,2,3\n", "x.csv", ","),
        ("a;b;c\n1;2,5;3\n", "x.csv", ";"),
        ("a\tb\n1\t2\n", "x.txt", "\t"),
        ("a|b\n1|2\n", "x.csv", "|"),
        ('"x, y";b\n"1, 2";3\n', "x.csv", ";"),
        ("single\nvalue\n", "x.csv", ","),
        ("a,b\n1,2\n", "x.tsv", "\t"),
    ],
)
def test_sniff_delimiter(sample: str, filename: str, expected: str) -> None:
    assert sniff_delimiter(sample, filename) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbfa,b", "utf-8-sig"),
        ("a,b".encode("utf-16"), "utf-16"),
        ("a,b\n".encode("utf-16-le"), "utf-16-le"),
        ("né,b".encode(), "utf-8"),
        ("né,€".encode("cp1252"), "cp1252"),
        (b"caf\xe9 \x81", "latin-1"),
    ],
)
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert detect_encoding(data) == expected
