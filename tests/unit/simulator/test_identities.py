"""The civil registry's identity details of the synthetic residents: stable, well-formed, phones only where known."""

from __future__ import annotations

import datetime as dt
import re

from services.core.codec import decode_record, encode_record, load_contract
from services.core.identity import Pseudonymiser
from services.simulator.identities import identity_records
from services.simulator.population import generate_population
from services.simulator.story import demo_story

CONTRACT = load_contract()
AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
PERSON_ID = Pseudonymiser("test-key").person_id


def test_every_resident_gets_one_record_that_fits_the_schema_with_a_phone_only_when_the_registry_knows_one():
    population = generate_population(200, 3, dt.date(2026, 1, 1), PERSON_ID)
    for household in population.households:
        records = identity_records(household, AS_OF)
        assert [r["person_id"] for r in records] == [m.person_id for m in household.members]
        assert len({r["address"] for r in records}) == 1 and household.district.name_zh in records[0]["address"]
        for record, member in zip(records, household.members, strict=True):
            assert decode_record(CONTRACT, "person_identity", encode_record(CONTRACT, "person_identity", record)) \
                == record
            assert (record["phone"] is not None) == member.has_phone
            assert record["phone"] is None or re.fullmatch(r"1[3-9][0-9]{9}", record["phone"])
            assert 2 <= len(record["name"]) <= 3


def test_the_same_population_gives_the_same_details():
    first = generate_population(50, 5, dt.date(2026, 1, 1), PERSON_ID)
    again = generate_population(50, 5, dt.date(2026, 1, 1), PERSON_ID)
    assert [identity_records(h, AS_OF) for h in first.households] == \
        [identity_records(h, AS_OF) for h in again.households]


def test_the_demo_familys_members_carry_their_names_from_the_story():
    yang = next(s for s in demo_story(CONTRACT, PERSON_ID, AS_OF) if s.household.household_id == "demo-yang")
    names = [r["name"] for r in identity_records(yang.household, AS_OF, yang.names)]
    assert names == ["杨建国", "马秀兰", "杨小军", "杨小梅", "张桂英"]
    assert identity_records(yang.household, AS_OF)[0]["address"].startswith("四川省凉山彝族自治州冕宁县")
