"""compare on value codes (what batch look-ups use) gives what compare on the values gives."""

from __future__ import annotations

import dataclasses

import numpy as np

from crmsync.dedup.engine.compare import COMPARED, compare, compare_coded
from crmsync.dedup.engine.encoded import ALL_TEXT, decode, encode
from crmsync.dedup.engine.prepared import prepare

# missing fields, nicknames, initials, swapped names, numbered and work addresses,
# mistyped and swapped birth dates, neighbouring postcodes, one household's phone
RECORDS = [
    {"first_name": "William", "last_name": "Smith", "email": "bill.smith12@acme.com",
     "phone": "+1 415 555 0100", "company": "Acme Realty", "city": "Boston",
     "postcode": "02118", "address": "12 Main St", "dob": "1980-04-05"},
    {"first_name": "Bill", "last_name": "Smith", "email": "bill.smith45@acme.com",
     "phone": "+1 415 555 0101", "company": "Acme", "city": "Boston", "postcode": "02119"},
    {"first_name": "W.", "last_name": "Smyth", "email": "wsmith@gmail.com",
     "phone": "+1 415 555 0100", "city": "Bostn", "dob": "1980-05-04"},
    {"first_name": "Smith", "last_name": "William", "email": "bill.smith12@acme.com",
     "address": "12 Main Street", "postcode": "02118", "dob": "1980-04-06"},
    {"first_name": "Jane", "email": "jane@acme.com", "company": "Acme Realty"},
    {"last_name": "Smith", "phone": "+1 415 555 0102", "city": "Boston"},
    {"first_name": "Janet", "last_name": "Smith", "email": "jsmith@acme.com",
     "company": "Smith Realty", "dob": "1981-04-05"},
    {"first_name": "J", "last_name": "Smith", "email": "jsmith2@acme.com"},
    {},
]  # fmt: skip


def test_compare_on_codes_equals_compare_on_values() -> None:
    frame = prepare([{"id": str(at), **record} for at, record in enumerate(RECORDS)], "US")
    enc = encode(frame, ALL_TEXT)
    pairs = [(a, b) for a in range(len(RECORDS)) for b in range(len(RECORDS))]
    left = np.array([a for a, _b in pairs], dtype=np.int64)
    right = np.array([b for _a, b in pairs], dtype=np.int64)
    on_values = compare(decode(enc, left, COMPARED), decode(enc, right, COMPARED))
    on_codes = compare_coded(enc, left, right)
    for field in dataclasses.fields(on_values):
        expected, got = getattr(on_values, field.name), getattr(on_codes, field.name)
        assert np.array_equal(expected, got, equal_nan=expected.dtype.kind == "f"), field.name
    # the cases cover what the codes decide: missing, equal and different values
    assert np.isnan(on_values.phone).any() and (on_values.phone == 1.0).any()
    assert (on_values.phone == 0.0).any() and (on_values.email_kind > 0).any()
