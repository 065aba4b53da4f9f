"""Name capitalisation, the one cleansing step beyond trimming (imports run it on name fields)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.quality.cleansing_names import capitalise_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JOHN MCDONALD", "John McDonald"),
        ("mcdonald", "McDonald"),
        ("o'neil", "O'Neil"),
        ("O'NEIL", "O'Neil"),
        ("d'angelo", "D'Angelo"),
        ("van der berg", "van der Berg"),
        ("VAN DER BERG", "van der Berg"),
        ("de la cruz", "de la Cruz"),
        ("maria de la cruz", "Maria de la Cruz"),
        ("ludwig van beethoven", "Ludwig van Beethoven"),
        ("van", "Van"),
        ("mary-jane", "Mary-Jane"),
        ("jean-luc picard", "Jean-Luc Picard"),
        ("ÉMILE ZOLA", "Émile Zola"),
        ("john smith iii", "John Smith III"),
        ("McDonald", "McDonald"),
        ("deShawn", "deShawn"),
        ("DeAndre", "DeAndre"),
        ("van Gogh", "van Gogh"),
        ("123", "123"),
        ("", ""),
    ],
)
def test_name_capitalisation(raw: str, expected: str) -> None:
    assert capitalise_name(raw) == expected


@settings(deadline=None)
@given(st.text(alphabet=st.sampled_from("abcdeijlmnorsvyzABDEMNORVZ '-ÉßŉĳÆ"), max_size=30))
def test_capitalising_a_capitalised_name_changes_nothing(name: str) -> None:
    once = capitalise_name(name)
    assert capitalise_name(once) == once


@pytest.mark.parametrize("name", ["ß", "ßmith", "ŉame"])
def test_a_letter_with_no_one_letter_capital_is_kept_and_stays_kept(name: str) -> None:
    once = capitalise_name(name)
    assert capitalise_name(once) == once
