"""A hand-written demo story: a few named households and the department events that should reach them with help.

Birth dates are relative to the story's `now`, so ages stay as written whenever the demo runs. The names appear
only in the narrative; the registry records carry pseudonyms and the events carry identity numbers, as in life.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.core.codec import Contract
from services.core.identity import check_character
from services.simulator.departments import department_event, local_day
from services.simulator.districts import district
from services.simulator.population import SUBSISTENCE_ALLOWANCE, Household, Person

_NAMESPACE = uuid.UUID("6f1c2a52-3c1e-4b8e-9a57-3f0d1c7e2b10")


@dataclass(frozen=True)
class StoryHousehold:
    """One household of the demo: who they are, what the departments report, which help should follow."""

    title: str
    narrative: tuple[str, ...]
    household: Household
    events: tuple[dict[str, Any], ...]
    expected_offers: tuple[str, ...]
    names: tuple[str, ...] = ()
    """The members' names as the civil registry holds them (for the identity vault), in member order."""


def demo_story(contract: Contract, person_id: Callable[[str], str], now: dt.datetime) -> tuple[StoryHousehold, ...]:
    """The demo households; their events happen in the hours and days before `now` (timezone-aware)."""
    return _Story(contract, person_id, now).households()


class _Story:
    def __init__(self, contract: Contract, person_id: Callable[[str], str], now: dt.datetime):
        self._contract = contract
        self._person_id = person_id
        self._now = now

    def households(self) -> tuple[StoryHousehold, ...]:
        return (self._job_loss(), self._alone_without_phone(), self._school_in_dibao_family(),
                self._flood_away_from_home(), self._severe_disability())

    def _job_loss(self) -> StoryHousehold:
        jianguo = self._person("513433", 38, 4, 12, "M", 580_000)
        family = (jianguo, self._person("513433", 36, 9, 3, "F", 30_000),
                  self._person("513433", 10, 5, 20, "M", 0, phone=False),
                  self._person("513433", 7, 11, 2, "F", 0, phone=False),
                  self._person("513433", 74, 2, 14, "F", 20_000))
        household = Household("demo-yang", district("513433"), 800_000, family)
        events = (self._event(household, 0, "job.lost", hours=3, person=jianguo,
                              data={"unemployment_registered": True, "previous_monthly_income_fen": 580_000},
                              day_field="lost_on"),)
        return StoryHousehold(
            "The Yang family, Mianning County (rural Sichuan)",
            ("Yang Jianguo (38) earns 5,800 yuan a month on a construction site; his wife Ma Xiulan earns 300 yuan,",
             "his mother 200 yuan of pension; they have two children. Five people, 1,260 yuan each a month.",
             "The site closes: the employment service registers him as unemployed. Per person the family now has",
             "100 yuan a month, far below the rural subsistence standard."),
            household, events, ("subsistence allowance (per-capita income below the rural standard)",
                                "employment assistance for the registered unemployed"),
            ("杨建国", "马秀兰", "杨小军", "杨小梅", "张桂英"))

    def _alone_without_phone(self) -> StoryHousehold:
        dehai = self._person("441781", 85, 6, 21, "M", 180_000)
        guifen = self._person("441781", 82, 3, 8, "F", 20_000, phone=False)
        household = Household("demo-chen", district("441781"), 1_500_000, (dehai, guifen))
        died = self._event(household, 0, "death.registered", hours=20, person=dehai, data={}, day_field="died_on")
        return StoryHousehold(
            "Grandma Chen Guifen, Yangchun (rural Guangdong)",
            ("Chen Guifen (82) and her husband Lin Dehai (85) live on his teacher's pension of 1,800 yuan and her",
             "200 yuan; she has never had a phone. Lin Dehai dies. She now lives alone, on 200 yuan a month."),
            household, (died,),
            ("home care for an older person living alone: a caseworker visits, as she has no phone",
             "subsistence allowance (her own income is below the rural standard)",
             "old-age allowance (80 and over)"))

    def _school_in_dibao_family(self) -> StoryHousehold:
        hao = self._person("510107", 6, 3, 15, "M", 0, phone=False)
        family = (self._person("510107", 35, 6, 30, "F", 80_000), hao)
        household = Household("demo-zhou", district("510107"), 300_000, family, (SUBSISTENCE_ALLOWANCE,))
        events = (self._event(household, 0, "school.enrolled", hours=2, person=hao, data={
            "level": "PRIMARY", "school_district": "510107", "term_fees_fen": 90_000}, day_field="enrolled_on"),)
        return StoryHousehold(
            "The Zhou household, Wuhou (Chengdu), on subsistence allowance",
            ("Zhou Min (35) raises her son Zhou Hao alone on 800 yuan a month and receives subsistence allowance.",
             "Hao turns six and is enrolled in primary school; the term's books and meals cost 900 yuan."),
            household, events, ("education assistance for a child of a subsistence-allowance household",))

    def _flood_away_from_home(self) -> StoryHousehold:
        qiang = self._person("510104", 42, 1, 25, "M", 280_000)
        family = (qiang, self._person("510104", 40, 8, 9, "F", 120_000),
                  self._person("510104", 14, 12, 1, "F", 0))
        household = Household("demo-wu", district("510104"), 2_000_000, family)
        flood = self._event(household, 0, "emergency.occurred", hours=30, person=qiang, data={
            "kind": "FLOOD", "severity": "CATASTROPHIC", "place_district": "513433", "home_destroyed": True},
            day_field="occurred_on")
        lost = self._event(household, 1, "housing.lost", hours=4, person=qiang, data={"reason": "DISASTER"},
                           day_field="lost_on")
        return StoryHousehold(
            "The Wu family, registered in Jinjiang (Chengdu), working in Mianning",
            ("Wu Qiang and Luo Ping are registered in Chengdu but work on a hydropower site in Mianning County",
             "for 4,000 yuan a month together, renting a house there with their daughter. A flood destroys it.",
             "Their registration is elsewhere, but the emergency happened where they live."),
            household, (flood, lost), ("temporary assistance, paid by Mianning County where the flood struck",
                                       "housing assistance after the home was destroyed"))

    def _severe_disability(self) -> StoryHousehold:
        wei = self._person("440305", 24, 7, 7, "M", 0)
        family = (self._person("440305", 55, 2, 28, "M", 900_000), self._person("440305", 53, 10, 17, "F", 600_000),
                  wei)
        household = Household("demo-huang", district("440305"), 12_000_000, family)
        events = (self._event(household, 0, "disability.certified", hours=6, person=wei, data={
            "category": "PHYSICAL", "grade": 1}, day_field="certified_on"),)
        return StoryHousehold(
            "Huang Wei, Nanshan (Shenzhen)",
            ("Huang Wei (24) is paralysed after a traffic accident. The disabled persons' federation certifies",
             "a grade-1 physical disability, the most severe grade."),
            household, events, ("nursing subsidy for a severe (grade 1-2) disability",))

    def _person(self, code: str, age: int, month: int, day: int, sex: str, income_fen: int,
                phone: bool = True, grade: int | None = None) -> Person:
        today = local_day(self._now)
        born = dt.date(today.year - age, month, day)
        if (month, day) > (today.month, today.day):  # not yet had this year's birthday: born a year earlier
            born = dt.date(today.year - age - 1, month, day)
        # Sequence numbers from 900 up are never drawn for the random population, so these ids are the story's own.
        sequence = 901 + (sum(map(ord, code + born.isoformat())) % 40) * 2 + (sex == "M") - 1
        first17 = f"{code}{born:%Y%m%d}{sequence:03d}"
        resident_id = first17 + check_character(first17)
        return Person(resident_id, self._person_id(resident_id), born, sex, income_fen, grade, phone)

    def _event(self, household: Household, number: int, type_: str, hours: float, person: Person,
               data: dict[str, Any], day_field: str) -> dict[str, Any]:
        at = self._now - dt.timedelta(hours=hours)
        event_id = str(uuid.uuid5(_NAMESPACE, f"{household.household_id}/{number}/{self._now.isoformat()}"))
        return department_event(self._contract, event_id, type_, at, person.resident_id,
                                {day_field: local_day(at), **data})
