"""HubSpot specifics beyond the shared contract: batching, 207 partial results, splitting
refused batches, paging through changes (records stamped behind the watermark included),
and the registry's answer for unknown providers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from crmsync.connectors.base import Connector, Outcome
from crmsync.connectors.errors import ConfigError, InvalidRecord, NotFound
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from tests.connectors.conftest import FakeClock
from tests.connectors.contract.targets import HubSpotTarget, payloads


@pytest.fixture(scope="module")
def served() -> Iterator[HubSpotTarget]:
    target = HubSpotTarget()
    yield target
    target.stop()


@pytest.fixture
def target(served: HubSpotTarget) -> HubSpotTarget:
    served.reset()
    return served


def calls(target: HubSpotTarget) -> int:
    return int(target.control.get("/_sandbox/state").json()["requests_total"])


def test_payloads_go_in_batches_of_100(target: HubSpotTarget) -> None:
    connector = target.connector()
    before = calls(target)
    results = connector.upsert("contacts", payloads(target, range(250)), "email")
    assert [r.outcome for r in results] == [Outcome.CREATED] * 250
    assert len({r.remote_id for r in results}) == 250
    assert calls(target) - before == 3


def test_creates_report_partial_results_of_a_207(target: HubSpotTarget) -> None:
    connector = target.connector()
    batch = [{"firstname": "A"}, {"firstname": "B", "no_such_property": "x"}, {"lastname": "C"}]
    before = calls(target)
    results = connector.upsert("contacts", batch, None)
    assert calls(target) - before == 1
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.ERROR, Outcome.CREATED]
    assert isinstance(results[1].error, InvalidRecord)
    assert "no_such_property" in results[1].error.message
    remote = target.remote(str(results[2].remote_id))
    assert remote is not None and remote["lastname"] == "C"


def test_updates_by_id_report_missing_records_as_not_found(target: HubSpotTarget) -> None:
    connector = target.connector()
    made = connector.upsert("contacts", payloads(target, range(2)), "email")
    batch = [
        {"id": made[0].remote_id, "lastname": "X"},
        {"id": "987654321", "lastname": "Y"},
        {"id": made[1].remote_id, "lastname": "Z"},
    ]
    results = connector.upsert("contacts", batch, "email")
    assert [r.outcome for r in results] == [Outcome.UPDATED, Outcome.ERROR, Outcome.UPDATED]
    assert isinstance(results[1].error, NotFound)


def test_a_refused_batch_is_split_only_as_far_as_needed(target: HubSpotTarget) -> None:
    connector = target.connector()
    batch = payloads(target, range(100))
    batch[37] = target.invalid_payload(37)
    before = calls(target)
    results = connector.upsert("contacts", batch, "email")
    assert [n for n, r in enumerate(results) if not r.ok] == [37]
    assert target.sandbox.counts()["contacts"] == 99
    # one refused call, then two halves per level down to the single bad input
    assert calls(target) - before <= 1 + 2 * 7


def test_owners_given_by_email_are_sent_as_owner_ids(target: HubSpotTarget) -> None:
    # HubSpot refuses anything but an owner id in hubspot_owner_id; the connector looks
    # an email up in the owners API, and an unknown owner fails that record only.
    connector = target.connector()
    batch = [
        {"email": "a@x.io", "hubspot_owner_id": "Agent@Sandbox.example"},
        {"email": "b@x.io", "hubspot_owner_id": "101"},
        {"email": "c@x.io", "hubspot_owner_id": "nobody@x.io"},
    ]
    results = connector.upsert("contacts", batch, "email")
    assert [r.ok for r in results] == [True, True, False]
    assert isinstance(results[2].error, InvalidRecord)
    headers = {"Authorization": f"Bearer {target.sandbox.tokens.private_token}"}
    owners = [
        target.control.get(
            f"/crm/v3/objects/contacts/{r.remote_id}",
            params={"properties": "hubspot_owner_id"},
            headers=headers,
        ).json()["properties"]["hubspot_owner_id"]
        for r in results[:2]
    ]
    assert owners == ["102", "101"]


def test_one_record_twice_in_a_batch_is_written_in_two_calls(target: HubSpotTarget) -> None:
    # HubSpot refuses a batch naming one record twice; the connector sends the repeat in
    # a later call, so the last payload wins and nothing is split by trial and error.
    connector = target.connector()
    made = connector.upsert("contacts", payloads(target, range(1)), "email")[0]
    before = calls(target)
    batch = [
        {"id": made.remote_id, "lastname": "First"},
        {"id": made.remote_id, "lastname": "Last"},
    ]
    results = connector.upsert("contacts", batch, None)
    assert [r.outcome for r in results] == [Outcome.UPDATED, Outcome.UPDATED]
    assert calls(target) - before == 2
    remote = target.remote(str(made.remote_id))
    assert remote is not None and remote["lastname"] == "Last"


def test_changes_page_through_everything_once(target: HubSpotTarget) -> None:
    connector = target.connector()
    made = connector.upsert("contacts", payloads(target, range(450)), "email")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = connector.changes("contacts", cursor)
        pages += 1
        seen += [r.remote_id for r in page.records]
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert sorted(seen) == sorted(str(r.remote_id) for r in made)
    assert pages >= 3
    assert connector.changes("contacts", cursor).records == []


def test_unknown_object_types_and_providers_are_config_errors(target: HubSpotTarget) -> None:
    connector = target.connector()
    with pytest.raises(ConfigError, match="supported"):
        connector.upsert("widgets", [{"a": 1}], None)
    context = ConnectorContext(uuid.uuid4(), uuid.uuid4(), target.url, {"api_key": "k"})
    with pytest.raises(ConfigError, match="no connector for provider 'zoho'"):
        build("zoho", context)


class StillClockHubSpot(HubSpotTarget):
    """The sandbox's clock stands still until a test moves it."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        super().__init__()

    def make_sandbox(self, clock: Callable[[], float]) -> HubSpotSandbox:
        return HubSpotSandbox(clock=self.clock, batch_delay=0.01)


@pytest.fixture
def still() -> Iterator[StillClockHubSpot]:
    target = StillClockHubSpot()
    yield target
    target.stop()


def read_all(connector: Connector, cursor: str | None) -> tuple[list[str], str | None]:
    """Every page ready now: the ids read and the cursor after them."""
    ids: list[str] = []
    while True:
        page = connector.changes("contacts", cursor)
        ids += [r.remote_id for r in page.records]
        cursor = page.next_cursor
        if not page.has_more:
            return ids, cursor


def test_a_record_stamped_behind_the_watermark_is_read_once(still: StillClockHubSpot) -> None:
    # HubSpot's servers do not share one clock, and its search index lags: a record can
    # become searchable after records stamped later than it were read.
    connector = still.connector()
    made = connector.upsert("contacts", payloads(still, range(2)), "email")
    first, cursor = read_all(connector, None)
    assert sorted(first) == sorted(str(r.remote_id) for r in made)
    still.clock.now -= 3  # inside the lag window, behind the watermark
    late = str(made[1].remote_id)
    still.change(late, {"lastname": "Late"})
    read, cursor = read_all(connector, cursor)
    assert read == [late]
    assert read_all(connector, cursor)[0] == []  # re-read inside the window, not delivered
    still.clock.now += 60  # a later change moves the window on; the late one stays done
    still.change(str(made[0].remote_id), {"lastname": "Later"})
    assert read_all(connector, cursor)[0] == [str(made[0].remote_id)]


def test_changes_and_reads_carry_each_propertys_own_time(target: HubSpotTarget) -> None:
    connector = target.connector()
    made = connector.upsert("contacts", [{"email": "t@x.com", "firstname": "A"}], "email")
    remote_id = str(made[0].remote_id)
    first = connector.read("contacts", [remote_id])[0]
    assert first.field_times is not None
    named_at = first.field_times["firstname"]
    target.sandbox.user_change("contacts", remote_id, {"lastname": "B"})
    (again,) = connector.read("contacts", [remote_id])
    assert again.field_times is not None and again.field_times["firstname"] == named_at
    assert again.field_times["lastname"] > named_at  # the record's time moved; firstname's did not
    page = connector.changes("contacts", None)
    polled = next(r for r in page.records if r.remote_id == remote_id)
    assert polled.field_times == again.field_times
