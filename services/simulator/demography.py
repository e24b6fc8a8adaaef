"""How the synthetic population is drawn: household kinds, ages, incomes, disabilities, allowances, identity numbers.

Vectorised with numpy so that a hundred thousand residents take about a second. Persons are ordered by household,
and within a household adults first (the first is the head), then elders, then children.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from services.core.identity import check_character
from services.simulator.districts import DISTRICTS

SUBSISTENCE_SHARE = 0.03
DISABILITY_SHARE = 0.06
ADULT, ELDER, CHILD = 0, 1, 2  # order of the members within a household

# Household kinds: share, then for adults, children and elders the probabilities of having 0, 1, 2, 3 of them,
# then the head's age range (adults only) and the scale of elders' years past 60.
_KINDS: tuple[tuple[float, tuple[float, ...], tuple[float, ...], tuple[float, ...], int, int, float], ...] = (
    (0.09, (1,), (1,), (0, 1), 0, 0, 11.0),                          # elder living alone
    (0.09, (1,), (1,), (0, 0, 1), 0, 0, 8.0),                        # elderly couple
    (0.15, (0, 1), (1,), (1,), 18, 59, 8.0),                         # single working-age adult
    (0.14, (0, 0, 1), (1,), (1,), 22, 59, 8.0),                      # couple without children
    (0.26, (0, 0, 1), (0, 0.55, 0.38, 0.07), (1,), 25, 50, 8.0),     # couple with children
    (0.04, (0, 1), (0, 0.7, 0.3), (1,), 24, 50, 8.0),                # single parent
    (0.15, (0, 0, 1), (0, 0.6, 0.4), (0, 0.6, 0.4), 25, 48, 8.0),    # three generations
    (0.08, (0, 0.5, 0.5), (1,), (0, 1), 28, 59, 8.0),                # adults with an elderly parent
)
_ELDER_ALONE = 0


class Draws:
    """The vectorised draws, one array per attribute; persons are ordered by household, then role."""

    def __init__(self, rng: np.random.Generator, n: int, census: dt.date):
        kinds = np.array([k[0] for k in _KINDS])
        kind = rng.choice(len(_KINDS), n, p=kinds / kinds.sum())
        counts = np.stack([_count(rng, kind, role) for role in (1, 3, 2)], axis=1)  # adults, elders, children
        self.size = counts.sum(axis=1)
        self.start = np.cumsum(self.size) - self.size
        self.district = rng.choice(len(DISTRICTS), n, p=np.array([d.share for d in DISTRICTS]))
        hh = np.repeat(np.arange(n), self.size)
        self.hh = hh
        role = np.repeat(np.tile([ADULT, ELDER, CHILD], n), counts.ravel())
        runs = counts.ravel()
        slot = np.arange(hh.size) - np.repeat(np.cumsum(runs) - runs, runs)
        age = self._ages(rng, kind, counts, hh, role, slot)
        self.birth_ordinal = _birth_ordinals(rng, age, census)
        self.male = rng.integers(0, 2, hh.size)
        couple = (slot == 1) & (role != CHILD) & (counts[hh, role] == 2)
        self.male[couple] = 1 - self.male[np.flatnonzero(couple) - 1]
        self.grade = self._disabilities(rng, age, role)
        urban = np.array([d.urban for d in DISTRICTS])[self.district][hh]
        wage = np.array([d.median_wage_fen for d in DISTRICTS])[self.district][hh]
        self.income = self._incomes(rng, age, role, urban, wage)
        alone = (kind == _ELDER_ALONE)[hh]
        self.phone = self._phones(rng, age, role, alone)
        self.assets, self.dibao = self._finances(rng, n, kind, wage)

    def _ages(self, rng: np.random.Generator, kind: np.ndarray, counts: np.ndarray, hh: np.ndarray,
              role: np.ndarray, slot: np.ndarray) -> np.ndarray:
        low = np.array([k[4] for k in _KINDS])[kind]
        high = np.array([k[5] for k in _KINDS])[kind]
        head = (low + rng.random(kind.size) * (high - low + 1)).astype(np.int64)[hh]
        age = head.copy()
        spouse = (role == ADULT) & (slot == 1)
        age[spouse] = np.clip(head[spouse] + np.rint(rng.normal(0, 3, spouse.sum())), 20, 59)
        scale = np.array([k[6] for k in _KINDS])[kind][hh]
        elder = role == ELDER
        years = 60 + np.floor(rng.exponential(scale)).astype(np.int64)
        with_adults = counts[hh, ADULT] > 0
        years = np.where(with_adults, np.maximum(years, head + 20 + rng.integers(0, 9, hh.size)), years)
        age[elder] = np.minimum(years[elder], 99)
        second = elder & (slot == 1)
        age[second] = np.clip(age[np.flatnonzero(second) - 1] + np.rint(rng.normal(0, 3, second.sum())), 60, 99)
        child = role == CHILD
        age[child] = np.floor(rng.random(child.sum()) * (np.minimum(17, head[child] - 20) + 1))
        return np.asarray(age, dtype=np.int64)

    @staticmethod
    def _disabilities(rng: np.random.Generator, age: np.ndarray, role: np.ndarray) -> np.ndarray:
        weight = np.where(role == CHILD, 0.35, np.where(age >= 60, 1.0 + (age - 60) / 12, 0.75))
        disabled = rng.random(age.size) < DISABILITY_SHARE * weight / weight.mean()
        grade = rng.choice(np.array([1, 2, 3, 4]), age.size, p=[0.12, 0.21, 0.31, 0.36])
        return np.where(disabled, grade, 0)

    def _incomes(self, rng: np.random.Generator, age: np.ndarray, role: np.ndarray, urban: np.ndarray,
                 wage: np.ndarray) -> np.ndarray:
        works = np.where(urban, 0.82, 0.74) * np.where(age < 23, 0.4, 1.0) * np.where(self.grade > 0, 0.35, 1.0)
        works = np.where(role == ELDER, np.where(age < 65, 0.2, 0.0), np.where(role == CHILD, 0.0, works))
        u = rng.random(age.size)
        earned = wage * rng.lognormal(0.0, 0.55, age.size)
        pension_median = np.where(urban, wage * 0.5, 40_000)
        pension = pension_median * rng.lognormal(0.0, 0.35, age.size)
        has_pension = (role == ELDER) & (u >= works) & (rng.random(age.size) < np.where(urban, 0.72, 0.65))
        income = np.where(u < works, earned, np.where(has_pension, pension, 0.0))
        return (np.rint(income / 100) * 100).astype(np.int64)

    def _phones(self, rng: np.random.Generator, age: np.ndarray, role: np.ndarray, alone: np.ndarray) -> np.ndarray:
        p = np.where(role == CHILD, np.where(age < 12, 0.0, 0.75), 0.985)
        elder = np.where(alone, np.where(age < 80, 0.85, 0.6), np.where(age < 80, 0.93, 0.8))
        return rng.random(age.size) < np.where(role == ELDER, elder, p)

    def _finances(self, rng: np.random.Generator, n: int, kind: np.ndarray,
                  wage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Assets for every household; the subsistence households' incomes and assets lowered below the line."""
        household_wage = wage[self.start]
        total = np.add.reduceat(self.income, self.start)
        assets = rng.lognormal(0.0, 1.0, n) * (3 * household_wage + 8 * total) * (rng.random(n) >= 0.1)
        line = np.array([d.subsistence_line_fen for d in DISTRICTS])[self.district]
        rural = ~np.array([d.urban for d in DISTRICTS])[self.district]
        severe = np.add.reduceat(((self.grade == 1) | (self.grade == 2)).astype(np.int64), self.start) > 0
        weight = (1 + 3 * rural + 3 * severe + 3 * (kind == _ELDER_ALONE) + 2 * (kind == 5)) * np.where(
            total < 2 * line * self.size, 4.0, 1.0)
        chosen = rng.choice(n, round(SUBSISTENCE_SHARE * n), replace=False, p=weight / weight.sum())
        dibao = np.zeros(n, dtype=bool)
        dibao[chosen] = True
        per_capita = np.floor(rng.random(n) * 0.75 * line / 100) * 100
        on = np.flatnonzero(dibao[self.hh])
        self.income[on] = 0
        self.income[self.start[chosen]] = (per_capita[chosen] * self.size[chosen]).astype(np.int64)
        assets = np.where(dibao, rng.random(n) * 2 * line * self.size, assets)
        return (np.rint(assets / 100) * 100).astype(np.int64), dibao


def _count(rng: np.random.Generator, kind: np.ndarray, column: int) -> np.ndarray:
    table = np.zeros((len(_KINDS), 4))
    for i, k in enumerate(_KINDS):
        probabilities = np.asarray(k[column], dtype=float)
        table[i, :probabilities.size] = probabilities
    cumulative = np.cumsum(table, axis=1)[kind]
    return np.asarray((rng.random(kind.size)[:, None] >= cumulative[:, :-1]).sum(axis=1), dtype=np.int64)


def _birth_ordinals(rng: np.random.Generator, age: np.ndarray, census: dt.date) -> np.ndarray:
    """A birth date for each age, uniform over the year of dates giving exactly that age on the census date."""
    ages = np.arange(int(age.max(initial=0)) + 2)
    anniversary = np.array([_anniversary(census, int(a)).toordinal() for a in ages])
    latest, earliest = anniversary[age], anniversary[age + 1] + 1
    return np.asarray(earliest + np.floor(rng.random(age.size) * (latest - earliest + 1)), dtype=np.int64)


def _anniversary(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def resident_ids(rng: np.random.Generator, g: Draws) -> list[str]:
    """Valid identity numbers, unique: the sequence number is ranked within each (district, birth date)."""
    key = g.district[g.hh] * 1_000_000 + g.birth_ordinal
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    first = np.concatenate(([True], ranked[1:] != ranked[:-1]))
    group = np.cumsum(first) - 1
    rank = np.arange(key.size) - np.flatnonzero(first)[group]
    offset = rng.integers(0, 400, int(group[-1]) + 1 if key.size else 0)[group]
    sequence = np.empty_like(key)
    sequence[order] = 2 * (offset + rank) + g.male[order]  # odd for men, even for women
    if key.size and sequence.max() > 999:
        raise ValueError("too many residents share a district and birth date for unique identity numbers")
    codes = [d.code for d in DISTRICTS]
    where, births, seqs = g.district[g.hh].tolist(), g.birth_ordinal.tolist(), sequence.tolist()
    ids = []
    for i in range(key.size):
        first17 = f"{codes[where[i]]}{dt.date.fromordinal(births[i]):%Y%m%d}{seqs[i]:03d}"
        ids.append(first17 + check_character(first17))
    return ids
