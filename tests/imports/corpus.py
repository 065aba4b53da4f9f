"""Awkward lead files, generated: each function writes one into a folder and returns it."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

HEADER = "first_name,last_name,email,phone"
ROWS = [
    "Ana,Lima,ana@example.com,+1 212 555 0134",
    "Bo,Chen,bo@example.com,+1 312 555 0188",
]


def _text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def bom_utf8(folder: Path) -> Path:
    return _text(folder / "bom.csv", "\ufeff" + "\n".join([HEADER, *ROWS]) + "\n")


def utf16(folder: Path) -> Path:
    return _text(folder / "utf16.csv", "\n".join([HEADER, *ROWS]) + "\n", "utf-16")


def cp1252_names(folder: Path) -> Path:
    text = "\n".join([HEADER, "José,Müller,jose@example.com,", "Zoë,Dvořák,zoe@example.com,"])
    # Dvořák is not in cp1252; Excel would have written a question mark
    return _text(folder / "cp1252.csv", text.replace("ř", "r") + "\n", "cp1252")


def semicolons(folder: Path) -> Path:
    lines = [HEADER.replace(",", ";"), *(r.replace(",", ";") for r in ROWS)]
    return _text(folder / "semi.csv", "\r\n".join(lines) + "\r\n")


def pipes(folder: Path) -> Path:
    lines = [HEADER.replace(",", "|"), *(r.replace(",", "|") for r in ROWS)]
    return _text(folder / "pipes.txt", "\n".join(lines) + "\n")


def tabs(folder: Path) -> Path:
    lines = [HEADER.replace(",", "\t"), *(r.replace(",", "\t") for r in ROWS)]
    return _text(folder / "leads.tsv", "\n".join(lines) + "\n")


def quoted_newlines(folder: Path) -> Path:
    text = (
        'name,notes,email\n"Ana","line one\nline two, with comma",ana@example.com\n'
        "Bo,x,bo@example.com\n"
    )
    return _text(folder / "quoted.csv", text)


def blank_lines(folder: Path) -> Path:
    return _text(
        folder / "blank.csv", "\n\n" + HEADER + "\n\n" + ROWS[0] + "\n,,,\n\n" + ROWS[1] + "\n\n"
    )


def duplicated_headers(folder: Path) -> Path:
    return _text(folder / "dup.csv", "email,email,,name\na@example.com,b@example.com,x,Ana\n")


def ragged(folder: Path) -> Path:
    return _text(
        folder / "ragged.csv", HEADER + "\nAna,Lima\n" + ROWS[1] + ",extra\n" + ROWS[0] + "\n"
    )


def wide(folder: Path, columns: int = 1000) -> Path:
    header = ",".join(f"col{i}" for i in range(columns))
    row = ",".join(str(i) for i in range(columns))
    return _text(folder / "wide.csv", header + "\n" + row + "\n")


def empty(folder: Path) -> Path:
    return _text(folder / "empty.csv", "")


def binary(folder: Path) -> Path:
    path = folder / "binary.csv"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def big_cell(folder: Path) -> Path:
    return _text(
        folder / "bigcell.csv", "name,notes\nAna," + "x" * (2 * 1024 * 1024) + "\nBo,short\n"
    )


def xlsx(folder: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(["First Name", "Last Name", "Email"])
    sheet.append(["Ana", "Lima", "ana@example.com"])
    sheet.append(["Bo", "Chen", "bo@example.com"])
    other = book.create_sheet("Other")
    other.append(["Email"])
    other.append(["cy@example.com"])
    path = folder / "leads.xlsx"
    book.save(path)
    return path


def xlsx_bomb(folder: Path) -> Path:
    """A valid-looking workbook whose sheet inflates from ~100 KB to 100 MB."""
    source = xlsx(folder)
    path = folder / "bomb.xlsx"
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"</sheetData>" + b" " * (100 * 1024 * 1024))
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def xlsx_entities(folder: Path) -> Path:
    """A workbook whose shared strings declare XML entities (billion laughs)."""
    source = xlsx(folder)
    path = folder / "laughs.xlsx"
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as out:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                data = laughs + body.replace(b"<sheetData>", b"<sheetData>&lol2;", 1)
            out.writestr(item, data)
    return path


def json_array(folder: Path) -> Path:
    items = [
        {"email": "ana@example.com", "name": {"first": "Ana"}, "tags": ["a"]},
        {"email": "bo@example.com", "name": {"first": "Bo"}, "score": 12.5},
    ]
    return _text(folder / "leads.json", json.dumps(items, indent=2))


def json_lines(folder: Path) -> Path:
    lines = ['{"email": "ana@example.com"}', "", "not json", "[1]", '{"email": "bo@example.com"}']
    return _text(folder / "leads.jsonl", "\n".join(lines) + "\n")


def xls_named_xlsx(folder: Path) -> Path:
    return _text(folder / "fake.xlsx", HEADER + "\n")


CORPUS: dict[str, Callable[[Path], Path]] = {
    f.__name__: f
    for f in (
        bom_utf8, utf16, cp1252_names, semicolons, pipes, tabs, quoted_newlines, blank_lines,
        duplicated_headers, ragged, wide, empty, binary, big_cell, xlsx, xlsx_bomb,
        xlsx_entities, json_array, json_lines, xls_named_xlsx,
    )
}  # fmt: skip
