"""The org store, ids, value conversion and query locators of the Salesforce sandbox."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from crmsync.sandbox.salesforce.clock import ManualClock
from crmsync.sandbox.salesforce.cursors import Cursors, batch_size
from crmsync.sandbox.salesforce.errors import ApiError, MultipleMatches
from crmsync.sandbox.salesforce.ids import IdFactory, checksum, to18
from crmsync.sandbox.salesforce.schema import Field, standard_objects, with_custom_fields
from crmsync.sandbox.salesforce.store import OrgStore
from crmsync.sandbox.salesforce.values import coerce, format_datetime, parse_datetime

USER = "0058c0000000001AAA"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 2, 1, 8, 30, 15, 999_000, tzinfo=UTC))


@pytest.fixture
def store(clock: ManualClock) -> OrgStore:
    return OrgStore(standard_objects(), clock)


@pytest.mark.parametrize(
    ("id15", "suffix"),
    [
        # Each character of the suffix is one 5-character chunk's upper-case bitmap
        # (bit i = character i), as a letter of A..Z0..5.
        ("001A0000006Vm9r", "IAC"),
        ("003d000000BEvgp", "AAD"),
        ("00Q5e00000AbCdE", "EAV"),
        ("ABCDEABCDEABCDE", "555"),
        ("000000000000000", "AAA"),
    ],
)
def test_checksum_encodes_upper_case_positions(id15: str, suffix: str) -> None:
    assert checksum(id15) == suffix
    assert to18(id15) == id15 + suffix


def test_ids_are_unique_18_characters_with_the_key_prefix() -> None:
    factory = IdFactory()
    ids = [factory.new("00Q") for _ in range(1000)]

    assert len(set(ids)) == 1000
    assert all(len(i) == 18 and i.startswith("00Q") and to18(i[:15]) == i for i in ids)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.123+0000", datetime(2026, 1, 2, 3, 4, 5, 123_000, tzinfo=UTC)),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_parse_datetime_accepts_salesforce_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [
        ("boolean", True, True),
        ("boolean", "false", False),
        ("int", "12", 12),
        ("int", 7.0, 7),
        ("currency", "12.5", 12.5),
        ("date", "2026-04-01", date(2026, 4, 1)),
        ("datetime", "2026-04-01T10:00:00.700Z", datetime(2026, 4, 1, 10, tzinfo=UTC)),
        ("string", 42, "42"),
        ("string", None, None),
    ],
)
def test_coerce_converts_json_values(field_type: str, value: Any, expected: Any) -> None:
    assert coerce(field_type, "F", value) == expected


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        ("boolean", "yes"),
        ("int", 1.5),
        ("double", "lots"),
        ("double", True),
        ("date", "April"),
        ("datetime", "soon"),
        ("double", "nan"),
        ("int", 1e400),
        ("date", "2026-02-30"),
        ("datetime", "2026-13-01T00:00:00Z"),
        ("datetime", "9999-12-31T23:59:59-23:59"),
        ("string", {"a": 1}),
    ],
)
def test_coerce_rejects_wrong_types_as_json_parser_error(field_type: str, value: Any) -> None:
    with pytest.raises(ApiError) as raised:
        coerce(field_type, "F", value)
    assert raised.value.code == "JSON_PARSER_ERROR"


def test_create_sets_system_fields_at_whole_seconds(store: OrgStore) -> None:
    record = store.create("Lead", {"lastname": "Low", "Company": "Acme"}, USER)

    stamp = datetime(2026, 2, 1, 8, 30, 15, tzinfo=UTC)
    assert record["LastName"] == "Low"
    assert record["CreatedDate"] == record["SystemModstamp"] == stamp
    assert format_datetime(stamp) == "2026-02-01T08:30:15.000+0000"
    assert record["Status"] == "Open - Not Contacted"
    assert record["OwnerId"] == record["CreatedById"] == USER
    assert record["IsDeleted"] is False and record["HasOptedOutOfEmail"] is False


def test_update_moves_modstamps_and_keeps_created(store: OrgStore, clock: ManualClock) -> None:
    record = store.create("Account", {"Name": "Acme"}, USER)
    clock.advance(minutes=3)

    updated = store.update("Account", record["Id"], {"Website": "acme.test"}, "005other")

    assert updated["CreatedDate"] == record["CreatedDate"]
    assert updated["SystemModstamp"] == updated["LastModifiedDate"] > record["SystemModstamp"]
    assert updated["LastModifiedById"] == "005other"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"Name": None}, "REQUIRED_FIELD_MISSING"),
        ({"IsDeleted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        ({"Colour__c": "red"}, "INVALID_FIELD"),
    ],
)
def test_update_errors(store: OrgStore, fields: dict[str, Any], code: str) -> None:
    record = store.create("Account", {"Name": "Acme"}, USER)
    with pytest.raises(ApiError) as raised:
        store.update("Account", record["Id"], fields, USER)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"LastName": "x" * 81}, "STRING_TOO_LONG", "(max length=80)"),
        (
            {"LastName": "L", "Email": "not-an-address"},
            "INVALID_EMAIL_ADDRESS",
            "invalid email address: not-an-address",
        ),
        (
            {"LastName": "L", "AccountId": "003000000000001AAA"},
            "MALFORMED_ID",
            "id value of incorrect type",
        ),
        ({"LastName": "L", "AccountId": "short"}, "MALFORMED_ID", "incorrect type: short"),
        (
            {"LastName": "L", "AccountId": "0018c0000000999AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        ),
    ],
)
def test_field_rules(store: OrgStore, fields: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(ApiError) as raised:
        store.create("Contact", fields, USER)
    assert raised.value.code == code and message in raised.value.message
    assert raised.value.status == 400


def test_lookups_accept_live_parents_by_15_or_18_character_id(store: OrgStore) -> None:
    acme = store.create("Account", {"Name": "Acme"}, USER)
    gone = store.create("Account", {"Name": "Gone"}, USER)
    store.delete("Account", gone["Id"], USER)

    child = store.create("Contact", {"LastName": "C", "AccountId": acme["Id"][:15]}, USER)
    task = store.create("Task", {"Subject": "Call", "WhoId": child["Id"]}, USER)

    assert child["AccountId"] == acme["Id"] and task["WhoId"] == child["Id"]
    with pytest.raises(ApiError) as raised:
        store.create("Contact", {"LastName": "D", "AccountId": gone["Id"]}, USER)
    assert raised.value.code == "ENTITY_IS_DELETED"


def test_deleted_records_free_their_external_id_and_refuse_changes(store: OrgStore) -> None:
    first = store.create("Contact", {"LastName": "A", "External_Id__c": "k"}, USER)
    store.delete("Contact", first["Id"], USER)

    second = store.create("Contact", {"LastName": "B", "External_Id__c": "K"}, USER)

    assert store.match_external("Contact", "External_Id__c", "k") == [second["Id"]]
    with pytest.raises(ApiError) as raised:
        store.update("Contact", first["Id"], {"LastName": "C"}, USER)
    assert raised.value.code == "ENTITY_IS_DELETED"
    with pytest.raises(ApiError):
        store.get("Contact", first["Id"])
    assert store.get("Contact", first["Id"], include_deleted=True)["IsDeleted"] is True


def test_upsert_matches_case_insensitively_and_reports_multiple(store: OrgStore) -> None:
    created, was_new = store.upsert(
        "Lead", "external_id__c", "AB-1", {"LastName": "X", "Company": "C"}, USER
    )
    updated, again_new = store.upsert("Lead", "External_Id__c", "ab-1", {"Title": "VP"}, USER)
    for name in ("P", "Q"):
        store.create("Lead", {"LastName": name, "Company": "C", "Legacy_Id__c": "L"}, USER)

    assert (was_new, again_new) == (True, False)
    assert updated["Id"] == created["Id"] and updated["Title"] == "VP"
    assert updated["External_Id__c"] == "AB-1"
    with pytest.raises(MultipleMatches) as many:
        store.upsert("Lead", "Legacy_Id__c", "L", {"Title": "x"}, USER)
    assert len(many.value.record_ids) == 2 and many.value.status == 300
    with pytest.raises(ApiError) as not_key:
        store.upsert("Lead", "Email", "a@b.c", {}, USER)
    assert not_key.value.status == 404


def test_savepoint_rollback_restores_records_indexes_and_bin(store: OrgStore) -> None:
    kept = store.create("Contact", {"LastName": "Kept", "External_Id__c": "a"}, USER)
    savepoint = store.savepoint()
    store.update("Contact", kept["Id"], {"External_Id__c": "b"}, USER)
    store.create("Contact", {"LastName": "New", "External_Id__c": "a"}, USER)
    store.delete("Contact", kept["Id"], USER)
    store.release(savepoint, rollback=True)

    assert [r["Id"] for r in store.rows("Contact", include_deleted=True)] == [kept["Id"]]
    assert store.get("Contact", kept["Id"]) == kept
    assert store.match_external("Contact", "External_Id__c", "a") == [kept["Id"]]
    assert store.match_external("Contact", "External_Id__c", "b") == []
    assert store.deleted_at == {}


def test_custom_fields_can_be_added() -> None:
    objects = with_custom_fields(
        standard_objects(),
        {"Lead": [Field("Partner_Code__c", "string", external_id=True, unique=True)]},
    )

    assert objects["Lead"].field("partner_code__c") is not None
    assert [f.name for f in objects["Lead"].external_ids][-1] == "Partner_Code__c"
    with pytest.raises(ValueError, match="__c"):
        with_custom_fields(objects, {"Lead": [Field("PartnerCode")]})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 2000),
        ("batchSize=500", 500),
        ("batchSize=10", 200),
        ("batchsize = 5000", 2000),
        ("other=1", 2000),
    ],
)
def test_batch_size_header(header: str | None, expected: int) -> None:
    assert batch_size(header) == expected


def test_cursors_page_and_forget_old_locators() -> None:
    cursors = Cursors(keep=1)
    rows = [{"n": i} for i in range(5)]

    first = cursors.first_page(5, rows, 2, "/q")
    second = cursors.next_page(first["nextRecordsUrl"].removeprefix("/q/"), "/q")
    newer = cursors.first_page(5, rows, 2, "/q")

    assert [r["n"] for r in first["records"] + second["records"]] == [0, 1, 2, 3]
    assert second["nextRecordsUrl"].endswith("-4")
    assert cursors.first_page(1, rows[:1], 2, "/q") == {
        "totalSize": 1,
        "done": True,
        "records": [{"n": 0}],
    }
    with pytest.raises(ApiError):
        cursors.next_page(second["nextRecordsUrl"].removeprefix("/q/"), "/q")
    assert cursors.next_page(newer["nextRecordsUrl"].removeprefix("/q/"), "/q")["records"]
