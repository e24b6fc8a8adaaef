"""The catalogue versions a matcher knows, and which one decides on a given day.

Versions arrive on assist.policies; a version is used from its effective date only, so a catalogue published
today with next month's date changes nothing until then.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue


@dataclass
class CatalogueVersions:
    _by_date: list[tuple[dt.date, str, PolicyCatalogue]] = field(default_factory=list)

    def adopt(self, catalogue: PolicyCatalogue) -> bool:
        """Add a version; False when the same version was already known (a replay of the topic)."""
        if any(c.version == catalogue.version for _, _, c in self._by_date):
            return False
        bisect.insort(self._by_date, (catalogue.effective_from, catalogue.version, catalogue),
                      key=lambda row: (row[0], row[1]))
        return True

    def active(self, on: dt.date) -> PolicyCatalogue | None:
        """The newest version effective on `on`, or None before the first."""
        usable = [c for effective, _, c in self._by_date if effective <= on]
        return usable[-1] if usable else None

    def by_version(self, version: str) -> PolicyCatalogue:
        return next(c for _, v, c in self._by_date if v == version)

    def change_dates(self) -> list[dt.date]:
        """Days on which the deciding catalogue or one of its parameters changes."""
        dates = {effective for effective, _, _ in self._by_date}
        for _, _, catalogue in self._by_date:
            dates |= {v.effective_from for p in catalogue.parameters.values() for v in p.values}
        return sorted(dates)

    def __len__(self) -> int:
        return len(self._by_date)
