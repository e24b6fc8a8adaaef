"""Catalogue parameters: dated values, per region, with urban and rural variants (e.g. the subsistence standard).

A value is in effect from its date until the next value for the same region. A region's own values take
precedence over the default (region-less) ones. Before the first date of a region's (or the default) values the
earliest value applies, so a replayed older event still resolves.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Number = int | float


@dataclass(frozen=True)
class ParameterValue:
    """One dated value; `region` None is the default for regions without their own value."""

    effective_from: dt.date
    region: str | None
    urban: Number
    rural: Number


@dataclass(frozen=True)
class Parameter:
    """A named, dated, regional value. Build it with `Parameter.of(name, values, description)`."""

    name: str
    description: str
    values: tuple[ParameterValue, ...]
    _history: Mapping[str | None, tuple[tuple[dt.date, ...], tuple[ParameterValue, ...]]] = field(
        repr=False, compare=False)

    @staticmethod
    def of(name: str, values: list[ParameterValue], description: str = "") -> Parameter:
        history: dict[str | None, list[ParameterValue]] = {}
        for value in sorted(values, key=lambda v: v.effective_from):
            history.setdefault(value.region, []).append(value)
        index = {region: (tuple(v.effective_from for v in vs), tuple(vs)) for region, vs in history.items()}
        return Parameter(name, description, tuple(values), index)

    def regions(self) -> frozenset[str]:
        return frozenset(r for r in self._history if r is not None)

    def value_for(self, region: str | None, on_date: dt.date) -> ParameterValue:
        """The value in effect for `region` on `on_date` (the region's own, else the default)."""
        own = self._history.get(region) if region is not None else None
        default = self._history.get(None)
        for history in (own, default):
            found = _in_effect(history, on_date) if history is not None else None
            if found is not None:
                return found
        earliest = own or default
        if earliest is None:
            raise LookupError(f"parameter {self.name!r} has no value for region {region!r}")
        return earliest[1][0]

    def resolve(self, region: str | None, urban: bool, on_date: dt.date) -> Number:
        value = self.value_for(region, on_date)
        return value.urban if urban else value.rural

    def resolve_coded(self, codes: np.ndarray[Any, Any], table: np.ndarray[Any, Any], urban: np.ndarray[Any, Any],
                      on_date: dt.date) -> np.ndarray[Any, Any]:
        """Like resolve_columns, for regions given as integer codes into `table` (the code strings): the value is
        resolved once per distinct region, then gathered for every row."""
        per_code = [self.value_for(str(region), on_date) for region in table]
        urban_values = np.array([v.urban for v in per_code])
        rural_values = np.array([v.rural for v in per_code])
        resolved: np.ndarray[Any, Any] = np.where(np.asarray(urban, dtype=bool), urban_values[codes],
                                                  rural_values[codes])
        return resolved

    def resolve_columns(self, regions: np.ndarray[Any, Any], urban: np.ndarray[Any, Any],
                        on_date: dt.date) -> np.ndarray[Any, Any]:
        """The value for every row at once; loops over the parameter's regions, never over rows."""
        dtype = np.int64 if all(isinstance(v.urban, int) and isinstance(v.rural, int) for v in self.values) \
            else np.float64
        urban_mask = np.asarray(urban, dtype=bool)
        default = self.value_for(None, on_date) if None in self._history else None
        result = np.zeros(urban_mask.shape, dtype=dtype)
        if default is not None:
            result = np.where(urban_mask, default.urban, default.rural).astype(dtype)
        covered = np.zeros(urban_mask.shape, dtype=bool)
        for region in self.regions():
            rows = _region_rows(regions, region)
            value = self.value_for(region, on_date)
            result = np.where(rows, np.where(urban_mask, value.urban, value.rural), result).astype(dtype)
            covered |= rows
        if default is None and not covered.all():
            raise LookupError(f"parameter {self.name!r} has no value for some regions")
        return result


def _in_effect(history: tuple[tuple[dt.date, ...], tuple[ParameterValue, ...]],
               on_date: dt.date) -> ParameterValue | None:
    dates, values = history
    at = bisect.bisect_right(dates, on_date)
    return values[at - 1] if at else None


def _region_rows(regions: np.ndarray[Any, Any], region: str) -> np.ndarray[Any, Any]:
    if regions.dtype.kind in "iu":
        return regions == int(region) if region.isdigit() else np.zeros(regions.shape, dtype=bool)
    return np.asarray(regions == region, dtype=bool)
