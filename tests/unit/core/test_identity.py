from __future__ import annotations

import pytest

from services.core.identity import Pseudonymiser, check_character, resident_id_problem


def test_published_example_number_has_check_character_x():
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert check_character("11010519491231002") == "X"
    assert resident_id_problem("11010519491231002X") is None


@pytest.mark.parametrize("value, reason", [
    ("1101051949123100", "must be an 18-character resident identity number"),
    ("11010519491231002Y", "must be a resident identity number: 17 digits followed by a digit or X"),
    ("110105194913310020", "is not a resident identity number: its date of birth is impossible"),
    ("110105194912310021", "is not a resident identity number: its check character is wrong (ISO 7064 MOD 11-2)"),
])
def test_bad_identity_numbers_are_refused_with_a_reason_that_does_not_repeat_them(value, reason):
    problem = resident_id_problem(value)
    assert problem == reason
    assert value not in problem
    assert "resident identity number" in problem


def test_pseudonym_is_stable_per_key_and_differs_between_keys():
    number = "11010519491231002X"
    assert Pseudonymiser("k1").person_id(number) == Pseudonymiser("k1").person_id(number)
    assert Pseudonymiser("k1").person_id(number) != Pseudonymiser("k2").person_id(number)
    assert number not in Pseudonymiser("k1").person_id(number)
    assert Pseudonymiser("k1").person_id(number.lower()) == Pseudonymiser("k1").person_id(number)
