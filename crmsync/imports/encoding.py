"""Guessing the text encoding of an uploaded file from its first bytes.

Byte-order marks decide first (UTF-8, UTF-16, UTF-32); then UTF-8 if the sample decodes
as UTF-8 (files from every modern tool); then UTF-16 without a mark if every other byte
is zero; else cp1252, the Windows code page older Excel exports use, of which latin-1
is a subset for printable text. Binary data is refused rather than read as mojibake.
"""

from __future__ import annotations

import codecs
from typing import Final

from crmsync.imports.errors import UnreadableFile

SAMPLE_BYTES: Final = 64 * 1024
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control bytes other than tab, newlines and form feed never occur in a text table.
_CONTROL: Final = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
# cp1252 leaves these five bytes undefined; latin-1 maps them to C1 controls.
_CP1252_HOLES: Final = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})


def _utf8(sample: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample end is fine
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    even_zero = sample[0::2].count(0) / len(sample[0::2])
    odd_zero = sample[1::2].count(0) / len(sample[1::2])
    if odd_zero > 0.9 > even_zero:
        return "utf-16-le"
    if even_zero > 0.9 > odd_zero:
        return "utf-16-be"
    return None


def detect_encoding(sample: bytes) -> str:
    """The encoding to read a text file with; UnreadableFile when it is not text."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    wide = _utf16_without_bom(sample)
    if wide is not None:
        return wide
    controls = sum(1 for b in sample if b in _CONTROL)
    if sample and (0 in sample or controls > len(sample) // 100):
        raise UnreadableFile(
            "the file looks like binary data, not a CSV or TSV text file "
            "(for Excel files upload the .xlsx itself)"
        )
    if _utf8(sample):
        return "utf-8"
    if any(b in _CP1252_HOLES for b in sample):
        return "latin-1"
    return "cp1252"
