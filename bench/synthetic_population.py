"""A realistic random population, generated directly as matching's population columns, for benchmarks and tests.

Shape: household sizes 1-6 (mean about 2.9), heads are adults; about 21 % of persons aged 60+, 6 % with a
certified disability; log-normal earned incomes and pensions; about 3 % of households under the subsistence
standard of their region; three province-level regions with four districts each.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from services.matching.domain.household.event_kinds import SPENDING_KINDS
from services.matching.domain.household.state import EPOCH, NO_DAY
from services.matching.domain.population.columns import PopulationColumns

Columns = dict[str, np.ndarray]

SYNTHETIC_REGIONS: dict[str, tuple[str, ...]] = {
    "110000": ("110101", "110105", "110108", "110112"),
    "510000": ("510104", "510107", "510122", "511302"),
    "440000": ("440103", "440106", "440305", "441802"),
}
SYNTHETIC_STANDARD_FEN: dict[tuple[str, bool], int] = {
    # Approximate monthly subsistence standards per person (fen), only used to shape synthetic incomes.
    ("110000", True): 145000, ("110000", False): 145000,
    ("510000", True): 90000, ("510000", False): 70000,
    ("440000", True): 110000, ("440000", False): 90000,
}
_REGION_SHARES = (0.25, 0.40, 0.35)
_URBAN_SHARES = (0.87, 0.58, 0.75)
_SIZE_SHARES = (0.18, 0.28, 0.22, 0.16, 0.10, 0.06)
ELDERLY_SHARE = 0.21
CHILD_SHARE = 0.17
DISABLED_SHARE = 0.06
POOR_SHARE = 0.03
# month*100+day of each day of a common year, to draw birthdays without 29 February.
_MONTH_DAYS = np.array([(d.month * 100 + d.day) for d in (dt.date(2025, 1, 1) + dt.timedelta(i) for i in range(365))],
                       dtype=np.int16)


def synthetic_population(n_persons: int, seed: int, on_date: dt.date | None = None) -> PopulationColumns:
    """A realistic random population of `n_persons` (shape described above), as of `on_date` (2026-01-01)."""
    day = on_date or dt.date(2026, 1, 1)
    households, members, districts, expenditures = synthetic_arrays(n_persons, seed, day)
    return PopulationColumns.from_arrays(day, households, members, districts, expenditures)


def synthetic_arrays(n_persons: int, seed: int, on_date: dt.date) -> tuple[Columns, Columns, list[str], Columns]:
    """Household columns, member columns (grouped by household), the district/region code table and the
    expenditure rows, in the layout PopulationColumns.from_arrays takes."""
    if n_persons < 1:
        raise ValueError("a synthetic population needs at least one person")
    rng = np.random.default_rng(seed)
    sizes = _household_sizes(rng, n_persons)
    n_h = len(sizes)
    owner = np.repeat(np.arange(n_h, dtype=np.int32), sizes)
    first = np.cumsum(sizes) - sizes
    head = np.zeros(n_persons, dtype=bool)
    head[first] = True

    regions = list(SYNTHETIC_REGIONS)
    codes = regions + [d for r in regions for d in SYNTHETIC_REGIONS[r]]
    region = rng.choice(len(regions), n_h, p=_REGION_SHARES).astype(np.int32)
    district = (len(regions) + 4 * region + rng.integers(0, 4, n_h)).astype(np.int32)
    urban = rng.random(n_h) < np.array(_URBAN_SHARES)[region]

    draw = rng.random(n_persons)
    elderly = draw < ELDERLY_SHARE
    child = ~elderly & ~head & (draw < ELDERLY_SHARE + CHILD_SHARE)
    adult_age = np.where(head, rng.integers(20, 60, n_persons), rng.integers(16, 60, n_persons))
    old_age = 60 + np.minimum(rng.exponential(9.0, n_persons), 40).astype(np.int64)
    age = np.where(elderly, old_age, np.where(child, rng.integers(0, 16, n_persons), adult_age))
    birth_md = _MONTH_DAYS[rng.integers(0, 365, n_persons)]
    birth_year = (on_date.year - age - (birth_md > on_date.month * 100 + on_date.day)).astype(np.int16)

    disabled = rng.random(n_persons) < DISABLED_SHARE
    grade = np.where(disabled, rng.choice([1, 2, 3, 4], n_persons, p=[0.1, 0.2, 0.35, 0.35]), 0).astype(np.int8)
    phone = rng.random(n_persons) < np.where(child, 0.2, np.where(elderly, 0.85, 0.97))

    employed = ~child & ~elderly & (rng.random(n_persons) < 0.8)
    pensioned = elderly & (rng.random(n_persons) < 0.85)
    wage = rng.lognormal(np.log(650_000), 0.6, n_persons)
    pension = rng.lognormal(np.log(300_000), 0.5, n_persons)
    income = np.where(employed, wage, np.where(pensioned, pension, 0.0))

    standard = np.array([[SYNTHETIC_STANDARD_FEN[(r, False)], SYNTHETIC_STANDARD_FEN[(r, True)]] for r in regions],
                        dtype=np.float64)[region, urban.astype(np.int64)]
    poor = rng.random(n_h) < POOR_SHARE
    income = _place_against_standard(rng, income, owner, sizes, head, standard, poor)

    assets = np.where(poor, rng.lognormal(np.log(200_000), 1.0, n_h), rng.lognormal(np.log(8_000_000), 1.3, n_h))
    subsistence = poor & (rng.random(n_h) < 0.6)
    hardship = poor & (sizes == 1) & elderly[first] & (rng.random(n_h) < 0.5)
    medical = np.where(rng.random(n_h) < 0.08, rng.lognormal(np.log(1_500_000), 1.0, n_h), 0)
    has_children = np.bincount(owner[child], minlength=n_h) > 0
    education = np.where(has_children & (rng.random(n_h) < 0.4), rng.lognormal(np.log(300_000), 0.7, n_h), 0)
    struck = rng.random(n_h) < 0.004
    emergency_day = np.where(struck, (on_date - EPOCH).days - rng.integers(0, 180, n_h), NO_DAY)
    severity = np.where(struck, rng.choice([1, 2, 3], n_h, p=[0.6, 0.3, 0.1]), 0)

    households: Columns = {
        "id": numbered_ids(f"h{seed:06d}", n_h),
        "district": district, "region": region, "urban": urban,
        "assets": assets.astype(np.int64), "subsistence": subsistence, "hardship": hardship,
        "emergency_day": emergency_day.astype(np.int32), "severity": severity.astype(np.int8),
    }
    members: Columns = {
        "household": owner, "birth_year": birth_year, "birth_md": birth_md, "income": income,
        "grade": grade, "phone": phone,
    }
    return households, members, codes, _expenditures(rng, on_date, medical, education)


def numbered_ids(prefix: str, count: int) -> np.ndarray:
    """prefix + a 10-digit number 0..count-1, as a fixed-width bytes array (no Python string per id)."""
    digits = 10
    numbers = np.arange(count, dtype=np.int64)[:, None] // (10 ** np.arange(digits - 1, -1, -1, dtype=np.int64))
    text = np.empty((count, len(prefix) + digits), dtype=np.uint8)
    text[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    text[:, len(prefix):] = (numbers % 10 + ord("0")).astype(np.uint8)
    return text.view(f"S{text.shape[1]}").ravel()


def _expenditures(rng: np.random.Generator, on_date: dt.date, medical: np.ndarray,
                  education: np.ndarray) -> Columns:
    """One expenditure row per household and kind spent on, dated within the 12 months before `on_date`."""
    rows = [(np.flatnonzero(amounts > 0), SPENDING_KINDS.index(kind), amounts)
            for kind, amounts in (("medical", medical), ("education", education))]
    household = np.concatenate([r for r, _, _ in rows])
    order = np.argsort(household, kind="stable")
    kind = np.concatenate([np.full(len(r), k, dtype=np.int8) for r, k, _ in rows])
    amount = np.concatenate([a[r] for r, _, a in rows]).astype(np.int64)
    day = (on_date - EPOCH).days - rng.integers(0, 300, len(household))
    return {"household": household[order].astype(np.int32), "day": day[order].astype(np.int32),
            "kind": kind[order], "amount": amount[order]}


def _household_sizes(rng: np.random.Generator, n_persons: int) -> np.ndarray:
    mean = sum((i + 1) * p for i, p in enumerate(_SIZE_SHARES))
    sizes = rng.choice(len(_SIZE_SHARES), int(n_persons / mean * 1.1) + 16, p=_SIZE_SHARES) + 1
    total = np.cumsum(sizes)
    while total[-1] < n_persons:  # only for tiny populations with an unlucky draw
        sizes = np.r_[sizes, sizes]
        total = np.cumsum(sizes)
    n_h = int(np.searchsorted(total, n_persons)) + 1
    sizes = sizes[:n_h].astype(np.int64)
    sizes[-1] -= int(total[n_h - 1]) - n_persons
    return sizes


def _place_against_standard(rng: np.random.Generator, income: np.ndarray, owner: np.ndarray, sizes: np.ndarray,
                            head: np.ndarray, standard: np.ndarray, poor: np.ndarray) -> np.ndarray:
    """Scale incomes so `poor` households fall under their standard and all others stay above it."""
    n_h = len(sizes)
    total = np.bincount(owner, weights=income, minlength=n_h)
    per_capita = total / sizes
    target = np.where(poor, standard * rng.uniform(0.0, 0.95, n_h), standard * rng.uniform(1.02, 2.5, n_h))
    adjust = poor | (per_capita < standard * 1.02)
    scale = np.divide(target * sizes, total, out=np.zeros(n_h), where=total > 0)
    scaled = np.where(adjust[owner], income * scale[owner], income)
    unpaid = adjust & (total == 0)
    scaled = np.where(head & unpaid[owner], (target * sizes)[owner], scaled)
    return np.floor(scaled).astype(np.int64)
