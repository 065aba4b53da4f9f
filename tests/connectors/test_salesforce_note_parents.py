"""A classic Note's one ParentId: its contact, else its deal's Opportunity, else its Lead;
read back, an Opportunity or Lead parent returns to the deal's or the lead's pseudo-field."""

from __future__ import annotations

from crmsync.connectors.base import RemoteRecord
from crmsync.connectors.salesforce.note_parents import fold, unfold

CONTACT = "003000000000001AAA"
OPPORTUNITY = "006000000000001AAA"
LEAD = "00Q000000000001AAA"


def test_a_new_note_hangs_on_its_contact_else_its_deal() -> None:
    deal = {"Body": "b", "ParentId:Opportunity": OPPORTUNITY}
    assert fold(deal) == {"Body": "b", "ParentId": OPPORTUNITY}
    both = {"Body": "b", "ParentId": CONTACT, "ParentId:Opportunity": OPPORTUNITY}
    assert fold(both) == {"Body": "b", "ParentId": CONTACT}
    assert fold({"Body": "b", "ParentId:Opportunity": None}) == {"Body": "b"}  # refused by SF
    assert fold({"Body": "b"}) == {"Body": "b"}


def test_a_new_note_about_a_lead_alone_hangs_on_the_lead() -> None:
    lead = {"Body": "b", "ParentId:Opportunity": None, "ParentId:Lead": LEAD}
    assert fold(lead) == {"Body": "b", "ParentId": LEAD}
    assert fold({"Body": "b", "ParentId": "", "ParentId:Lead": LEAD}) == {
        "Body": "b",
        "ParentId": LEAD,
    }


def test_precedence_is_contact_then_deal_then_lead_whatever_the_key_order() -> None:
    every = {"ParentId:Lead": LEAD, "ParentId:Opportunity": OPPORTUNITY, "ParentId": CONTACT}
    assert fold(every) == {"ParentId": CONTACT}
    deal_and_lead = {"ParentId:Lead": LEAD, "ParentId:Opportunity": OPPORTUNITY}
    assert fold(deal_and_lead) == {"ParentId": OPPORTUNITY}
    assert fold(dict(reversed(deal_and_lead.items()))) == {"ParentId": OPPORTUNITY}
    assert fold({"ParentId": CONTACT, "ParentId:Lead": LEAD}) == {"ParentId": CONTACT}


def test_an_update_never_moves_the_parent() -> None:
    update = {"Id": "002000000000001AAA", "Body": "b", "ParentId:Opportunity": OPPORTUNITY}
    assert fold(update) == {"Id": "002000000000001AAA", "Body": "b"}
    update = {"Id": "002000000000001AAA", "Body": "b", "ParentId:Lead": LEAD}
    assert fold(update) == {"Id": "002000000000001AAA", "Body": "b"}


def test_read_back_an_opportunity_parent_is_the_deal() -> None:
    on_deal = RemoteRecord("002A", {"Body": "b", "ParentId": OPPORTUNITY})
    on_contact = RemoteRecord("002B", {"Body": "b", "ParentId": CONTACT})
    assert [r.properties for r in unfold([on_deal, on_contact])] == [
        {"Body": "b", "ParentId:Opportunity": OPPORTUNITY},
        {"Body": "b", "ParentId": CONTACT},
    ]


def test_read_back_a_lead_parent_is_the_lead() -> None:
    on_lead = RemoteRecord("002C", {"Body": "b", "ParentId": LEAD})
    on_account = RemoteRecord("002D", {"Body": "b", "ParentId": "001000000000001AAA"})
    assert [r.properties for r in unfold([on_lead, on_account])] == [
        {"Body": "b", "ParentId:Lead": LEAD},
        {"Body": "b", "ParentId": "001000000000001AAA"},  # no pseudo-field for an Account
    ]
