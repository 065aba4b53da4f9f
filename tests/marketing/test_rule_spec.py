"""Trigger rules as YAML: read, refused with the line of the problem, written back."""

from __future__ import annotations

import pytest

from crmsync.marketing.errors import RuleInvalid
from crmsync.marketing.rule_spec import dump_yaml, parse_yaml, validate

GOOD = """\
rules:
  - name: uw-approved
    on: loan.milestone_updated
    when:
      milestone: [underwriting_approved, clear_to_close]
      contact: {contact_type: borrower, custom_fields.program: fha}
    enroll: {names: [Pre-Approval Follow-up]}
  - name: funded-leaves-nurture
    on: loan.milestone_updated
    when: {milestone: funded}
    unenroll: {categories: [Prospecting]}
"""


def test_a_good_file_reads_and_round_trips() -> None:
    specs = parse_yaml(GOOD)
    assert [s.name for s in specs] == ["uw-approved", "funded-leaves-nurture"]
    assert specs[0].conditions.contact == {
        "contact_type": "borrower",
        "custom_fields.program": "fha",
    }
    assert specs[1].action == "unenroll" and specs[1].journeys.categories == ["Prospecting"]
    assert parse_yaml(dump_yaml(specs)) == specs


def _refusal(text: str) -> RuleInvalid:
    with pytest.raises(RuleInvalid) as caught:
        parse_yaml(text)
    return caught.value


def test_a_syntax_error_names_its_line() -> None:
    broken = GOOD.replace("    when: {milestone: funded}", "    when: {milestone: funded")
    error = _refusal(broken)
    # the parser notices at the next line, and says where the open mapping began
    assert error.details[0]["line"] == 11
    assert error.message.startswith("line 11:") and "from line 10" in error.message


def test_a_bad_rule_names_the_line_it_starts_on() -> None:
    error = _refusal(GOOD.replace("when: {milestone: funded}", "when: {milestone: fundd}"))
    assert error.details[0]["line"] == 8
    assert "fundd" in error.message and "line 8" in error.message
    error = _refusal(GOOD.replace("    unenroll: {categories", "    unenrol: {categories"))
    assert error.details[0]["line"] == 8 and "unenrol" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "rules"),
        ("rules:\n  - name: x\n    on: Lead Created\n    enroll: {names: [a]}\n", "event type"),
        ("rules:\n  - name: x\n    on: lead.created\n    enroll: {}\n", "name journeys"),
        (
            "rules:\n  - name: x\n    on: lead.created\n    when: {contact: {shoe: 1}}\n"
            "    enroll: {names: [a]}\n",
            "contact filter",
        ),
    ],
)
def test_refusals_say_what_is_wrong(text: str, expected: str) -> None:
    assert expected in _refusal(text).message


def test_json_rules_are_checked_the_same_way() -> None:
    with pytest.raises(RuleInvalid, match="action"):
        validate({"name": "x", "event_type": "lead.created", "action": "pause",
                  "journeys": {"names": ["a"]}})  # fmt: skip
