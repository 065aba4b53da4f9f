from __future__ import annotations

from tests.dedup.engine.cases import check_pair


def test_explanation_lists_each_field_with_values_and_weights() -> None:
    result = check_pair(
        {
            "first_name": "Robert",
            "last_name": "Allen",
            "email": "rob@acme.com",
            "dob": "1971-06-24",
            "city": "Austin",
        },
        {
            "first_name": "Bob",
            "last_name": "Allen",
            "email": "ROB@acme.com",
            "dob": "1971-06-24",
            "city": "Boston",
            "phone": "(415) 555-0134",
        },
    )
    assert result.evidence is not None
    fields = {f.field: f for f in result.evidence.fields}
    assert fields["first"].similarity == 1.0  # Bob is Robert
    assert (fields["first"].left, fields["first"].right) == ("bob", "robert")
    assert fields["email"].agrees and fields["email"].weight > 0
    assert not fields["city"].agrees and fields["city"].weight < 0
    assert fields["phone"].similarity is None and fields["phone"].weight == 0  # one side only
    assert set(result.matched_fields) == {"first", "last", "email", "dob", "email_domain"}
    text = result.explanation
    assert text.startswith("duplicate by exact_email")
    assert "date of birth same (19710624)" in text
    assert "city differs (boston / austin)" in text
    assert "phone" not in text  # a field nobody can compare is not mentioned


def test_a_non_duplicate_says_so() -> None:
    result = check_pair(
        {"first_name": "John", "last_name": "Smith", "dob": "1980-01-01"},
        {"first_name": "John", "last_name": "Smith", "dob": "1955-09-09"},
    )
    assert not result.is_duplicate
    assert result.explanation.startswith("not a duplicate")
    assert "date of birth differs" in result.explanation
