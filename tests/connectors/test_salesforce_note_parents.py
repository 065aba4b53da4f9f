"""A classic Note's one ParentId: its contact, else its deal's Opportunity; read back, an
Opportunity parent returns to the deal's pseudo-field."""

from __future__ import annotations

from crmsync.connectors.base import RemoteRecord
from crmsync.connectors.salesforce.note_parents import fold, unfold

CONTACT = "003000000000001AAA"
OPPORTUNITY = "006000000000001AAA"


def test_a_new_note_hangs_on_its_contact_else_its_deal() -> None:
    deal = {"Body": "b", "ParentId:Opportunity": OPPORTUNITY}
    assert fold(deal) == {"Body": "b", "ParentId": OPPORTUNITY}
    both = {"Body": "b", "ParentId": CONTACT, "ParentId:Opportunity": OPPORTUNITY}
    assert fold(both) == {"Body": "b", "ParentId": CONTACT}
    assert fold({"Body": "b", "ParentId:Opportunity": None}) == {"Body": "b"}  # refused by SF
    assert fold({"Body": "b"}) == {"Body": "b"}


def test_an_update_never_moves_the_parent() -> None:
    update = {"Id": "002000000000001AAA", "Body": "b", "ParentId:Opportunity": OPPORTUNITY}
    assert fold(update) == {"Id": "002000000000001AAA", "Body": "b"}


def test_read_back_an_opportunity_parent_is_the_deal() -> None:
    on_deal = RemoteRecord("002A", {"Body": "b", "ParentId": OPPORTUNITY})
    on_contact = RemoteRecord("002B", {"Body": "b", "ParentId": CONTACT})
    assert [r.properties for r in unfold([on_deal, on_contact])] == [
        {"Body": "b", "ParentId:Opportunity": OPPORTUNITY},
        {"Body": "b", "ParentId": CONTACT},
    ]
