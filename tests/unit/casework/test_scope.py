"""Who sees and acts on which task."""

from __future__ import annotations

import pytest

from services.casework.domain.scope import InvalidStaff, Role, district_queue, region_queue, staff, staff_from_claims


def test_caseworker_sees_only_their_districts():
    alice = staff("alice", "caseworker", ["110105", "110108"])
    assert alice.sees("110105") and alice.sees("110108")
    assert not alice.sees("110101")
    assert not alice.sees("510107")


def test_supervisor_sees_every_district_whose_first_two_digits_match_the_region():
    sup = staff("sue", "supervisor", region="110000")
    assert sup.sees("110101") and sup.sees("110105") and sup.sees("119999")
    assert not sup.sees("510107")


def test_two_digit_region_is_the_same_region():
    assert staff("sue", "supervisor", region="11").region == "110000"


def test_only_supervisors_see_the_escalation_queue_of_their_region():
    alice = staff("alice", "caseworker", ["110105"])
    sup = staff("sue", "supervisor", region="110000")
    assert not alice.sees_queue(region_queue("110000"))
    assert sup.sees_queue(region_queue("110105"))
    assert not sup.sees_queue(region_queue("510107"))
    assert alice.sees_queue(district_queue("110105")) and sup.sees_queue(district_queue("110105"))


def test_scope_tokens_name_the_districts_or_the_region_prefix():
    assert staff("alice", "caseworker", ["110108", "110105"]).scope_token() == "d:110105,110108"
    assert staff("sue", "supervisor", region="440000").scope_token() == "r:44"


@pytest.mark.parametrize(("claims", "problem"), [
    ({"sub": "a", "role": "admin", "districts": ["110105"]}, "role"),
    ({"sub": "a", "role": "caseworker", "districts": []}, "district"),
    ({"sub": "a", "role": "caseworker", "districts": ["1101"]}, "district"),
    ({"sub": "a", "role": "caseworker", "districts": "110105"}, "districts"),
    ({"sub": "a", "role": "supervisor"}, "region"),
    ({"sub": "a", "role": "supervisor", "region": "110105"}, "region"),
    ({"sub": "", "role": "caseworker", "districts": ["110105"]}, "sub"),
    ({"sub": "system", "role": "caseworker", "districts": ["110105"]}, "sub"),
])
def test_claims_that_describe_no_member_of_staff_are_refused(claims, problem):
    with pytest.raises(InvalidStaff, match=problem):
        staff_from_claims(claims)


def test_claims_round_trip():
    for member in (staff("alice", "caseworker", ["110105"]), staff("sue", "supervisor", region="510000")):
        assert staff_from_claims(member.claims()) == member
    assert staff_from_claims({"sub": "sue", "role": "supervisor", "region": "51"}).role is Role.SUPERVISOR
