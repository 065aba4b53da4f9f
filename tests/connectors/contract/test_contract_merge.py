"""The optional merge capability (``MergeConnector``), for connectors that offer it."""

from __future__ import annotations

import pytest

from crmsync.connectors.base import MergeConnector
from tests.connectors.contract.targets import Target


def test_merge_folds_a_duplicate_into_the_survivor(target: Target) -> None:
    connector = target.connector()
    if not isinstance(connector, MergeConnector) or not connector.can_merge(target.object_type):
        pytest.skip(f"{target.provider} has no native merge of {target.object_type}")
    assert not connector.can_merge("no_such_objects")
    made = connector.upsert(
        target.object_type, [target.payload(1), target.payload(2)], target.match_key
    )
    survivor, duplicate = (r.remote_id for r in made)
    assert survivor is not None and duplicate is not None

    kept = connector.merge_records(target.object_type, survivor, duplicate)

    assert kept == survivor
    remote = target.remote(kept)
    key = target.match_key
    assert remote is not None and remote[key] == target.payload(1)[key]
    # the duplicate is gone, or (HubSpot) its id now answers with the survivor
    assert target.remote(duplicate) in (None, remote)


def test_connectors_without_native_merge_say_so(target: Target) -> None:
    connector = target.connector()
    merges = isinstance(connector, MergeConnector) and connector.can_merge(target.object_type)
    assert merges == (target.provider in ("hubspot", "pipedrive"))
