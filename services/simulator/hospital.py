"""What a hospital stay looks like to the health department: diagnosis, length, cost and what insurance leaves."""

from __future__ import annotations

import random
from dataclasses import dataclass

from services.simulator.districts import REGION_CAPITAL, District

# Diagnosis: median total cost (yuan), shortest and longest stay (days).
_CARE: dict[str, tuple[int, int, int]] = {
    "GENERAL": (8_000, 3, 10), "CHRONIC": (15_000, 5, 15), "CRITICAL": (120_000, 10, 40),
    "MATERNITY": (6_000, 2, 5), "MENTAL": (12_000, 10, 30), "INJURY": (20_000, 3, 20),
}
MAJOR_EXPENSE_FEN = 1_000_000
"""Out-of-pocket cost of a critical or chronic stay from which medical insurance settles a major expense."""


@dataclass(frozen=True)
class Stay:
    category: str
    hospital_district: str
    days: int
    total_cost_fen: int
    out_of_pocket_fen: int

    @property
    def major_expense(self) -> bool:
        return self.category in ("CRITICAL", "CHRONIC") and self.out_of_pocket_fen > MAJOR_EXPENSE_FEN


def hospital_stay(rng: random.Random, home: District, patient: str, female: bool) -> Stay:
    """A stay of an "elder", "adult" or "child" living in `home`; critical cases from the countryside go to the
    region's capital, and rural insurance covers less."""
    if patient == "elder":
        category = rng.choices(["CHRONIC", "GENERAL", "CRITICAL", "INJURY", "MENTAL"], [35, 30, 20, 10, 5])[0]
    elif patient == "child":
        category = rng.choices(["GENERAL", "INJURY", "CRITICAL", "MENTAL"], [60, 25, 10, 5])[0]
    else:
        category = rng.choices(["GENERAL", "INJURY", "MATERNITY", "CRITICAL", "CHRONIC", "MENTAL"],
                               [35, 20, 15 if female else 0, 10, 12, 8])[0]
    median, shortest, longest = _CARE[category]
    total = round(median * 100 * rng.lognormvariate(0, 0.6))
    covered = rng.uniform(0.6, 0.8) if home.urban else rng.uniform(0.5, 0.7)
    hospital = home.code
    if category == "CRITICAL" and (not home.urban or rng.random() < 0.4):
        hospital = REGION_CAPITAL.get(home.region, home.code)
    return Stay(category, hospital, rng.randint(shortest, longest), total, round(total * (1 - covered)))
