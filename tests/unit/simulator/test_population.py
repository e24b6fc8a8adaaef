"""The synthetic population: its profile, its identity numbers, its registry records."""

from __future__ import annotations

import datetime as dt

import pytest

from services.core.codec import decode_record, encode_record, load_contract
from services.core.identity import Pseudonymiser, resident_id_problem
from services.simulator.districts import BY_CODE
from services.simulator.population import SUBSISTENCE_ALLOWANCE, Population, generate_population

CENSUS = dt.date(2026, 1, 1)
PSEUDONYMS = Pseudonymiser("test-pseudonym-key")


def _population(households: int, seed: int) -> Population:
    return generate_population(households, seed, CENSUS, PSEUDONYMS.person_id)


@pytest.fixture(scope="module")
def population() -> Population:
    return _population(7_700, seed=11)  # a little over 20,000 persons


def test_population_of_twenty_thousand_has_the_intended_profile(population):
    summary = population.summary()
    assert summary.persons >= 20_000
    assert summary.aged_60_plus == pytest.approx(0.21, abs=0.02)
    assert summary.disabled == pytest.approx(0.06, abs=0.008)
    assert summary.severely_disabled_of_disabled == pytest.approx(1 / 3, abs=0.07)
    assert summary.households_on_subsistence == pytest.approx(0.03, abs=0.002)
    assert 2.3 < summary.persons / summary.households < 3.0


def test_every_identity_number_is_valid_unique_and_encodes_district_and_birth_date(population):
    ids = [(household, person) for household, person in population.persons()]
    assert len({p.resident_id for _, p in ids}) == len(ids)
    for household, person in ids:
        assert resident_id_problem(person.resident_id) is None
        assert person.resident_id[:6] == household.district.code
        assert person.resident_id[6:14] == f"{person.birth_date:%Y%m%d}"
        assert int(person.resident_id[16]) % 2 == (person.sex == "M")


def test_same_seed_gives_the_same_population_and_another_seed_another():
    first, again, other = _population(300, seed=5), _population(300, seed=5), _population(300, seed=6)
    assert first == again
    assert [p.resident_id for _, p in first.persons()] != [p.resident_id for _, p in other.persons()]


def test_registry_records_encode_with_the_codec_and_carry_only_pseudonyms(population):
    contract = load_contract()
    as_of = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    for household, record in zip(population.households, population.records(as_of), strict=True):
        payload = encode_record(contract, "household", record)
        assert all(m.resident_id.encode() not in payload for m in household.members)
        assert [m["person_id"] for m in record["members"]] == [PSEUDONYMS.person_id(m.resident_id)
                                                                for m in household.members]
    first = population.households[0]
    decoded = decode_record(contract, "household", encode_record(contract, "household", first.record(as_of)))
    assert decoded == first.record(as_of)


def test_subsistence_households_live_below_their_local_standard(population):
    on_allowance = [h for h in population.households if SUBSISTENCE_ALLOWANCE in h.current_benefits]
    assert on_allowance
    for household in on_allowance:
        assert household.per_capita_income_fen < household.district.subsistence_line_fen


def test_households_of_one_to_six_with_elderly_alone_some_without_a_phone(population):
    sizes = {len(h.members) for h in population.households}
    assert sizes == {1, 2, 3, 4, 5, 6}
    alone = [h.members[0] for h in population.households
             if len(h.members) == 1 and h.members[0].age_on(CENSUS) >= 60]
    without_phone = [p for p in alone if not p.has_phone]
    assert len(alone) > 0.05 * len(population.households)
    assert 0.05 * len(alone) < len(without_phone) < 0.5 * len(alone)
    everyone = [p for _, p in population.persons()]
    assert sum(p.has_phone for p in everyone) > 0.7 * len(everyone)


def test_children_earn_nothing_and_many_people_have_no_income(population):
    everyone = [p for _, p in population.persons()]
    assert all(p.monthly_income_fen == 0 for p in everyone if p.age_on(CENSUS) < 18)
    assert 0.3 < sum(p.monthly_income_fen == 0 for p in everyone) / len(everyone) < 0.7
    assert all(p.monthly_income_fen >= 0 for p in everyone)


def test_districts_are_real_codes_in_the_three_regions_with_rural_counties(population):
    codes = {h.district.code for h in population.households}
    assert codes == set(BY_CODE)
    assert {h.district.region for h in population.households} == {"110000", "510000", "440000"}
    assert {c for c in codes if not BY_CODE[c].urban} == {"513433", "441781"}


def test_disability_grades_are_one_to_four(population):
    grades = {p.disability_grade for _, p in population.persons()}
    assert grades == {None, 1, 2, 3, 4}


def test_thirty_eight_thousand_households_hold_about_a_hundred_thousand_persons():
    big = _population(38_000, seed=3)
    assert big.summary().persons > 95_000
