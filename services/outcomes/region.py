"""A region's outcome figures for its supervisor: the last days' rows of its districts summed per policy, and its
warnings, folded from the topics at most once per `max_age_seconds` (each fold reads the period's records)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.outcomes.domain.figures import Outcomes, Row, Warnings, totals


@dataclass(frozen=True)
class RegionFigures:
    days: int
    by_policy: tuple[tuple[str, Row], ...]
    """Most offers first."""
    warnings: Warnings


def region_figures(result: Outcomes, region: str, days: int) -> RegionFigures:
    """`result` narrowed to the districts of `region` (their first two digits are the region's)."""
    prefix = region[:2]
    mine = Outcomes({key: row for key, row in result.rows.items() if key[2].startswith(prefix)},
                    {d: w for d, w in result.warnings.items() if d.startswith(prefix)})
    return RegionFigures(days, tuple(sorted(totals(mine, 0).items(), key=lambda kv: -kv[1].made)), mine.all_warnings)


class RegionOutcomes:
    def __init__(self, read: Callable[[dt.datetime], Awaitable[Outcomes]], days: int = 30,
                 max_age_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self._read, self._days, self._max_age, self._clock = read, days, max_age_seconds, clock
        self._folded: tuple[float, Outcomes] | None = None

    async def of_region(self, region: str) -> RegionFigures:
        now = self._clock()
        if self._folded is None or now - self._folded[0] > self._max_age:
            since = dt.datetime.now(dt.UTC) - dt.timedelta(days=self._days)
            self._folded = (now, await self._read(since))
        return region_figures(self._folded[1], region, self._days)
