"""What the region's work achieved, on the supervisor overview (console and API): offers made per policy and what
became of them, the median times, the warnings raised and confirmed, over the last days (services/outcomes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.casework.domain.scope import Role, Staff
from services.outcomes.domain.figures import OUTCOMES as OUTCOME_NAMES
from services.outcomes.region import RegionFigures, RegionOutcomes

OUTCOMES = web.AppKey("outcomes", RegionOutcomes)


async def region_outcomes(request: web.Request, who: Staff) -> RegionFigures | None:
    """The figures of a supervisor's region (None for a caseworker, or when the API has no outcome source)."""
    source = request.app.get(OUTCOMES)
    if source is None or who.role is not Role.SUPERVISOR or who.region is None:
        return None
    return await source.of_region(who.region)


def region_outcomes_json(figures: RegionFigures) -> dict[str, Any]:
    return {"days": figures.days,
            "by_policy": [{"policy_id": policy, "made": row.made, **{o: row.counts[o] for o in OUTCOME_NAMES},
                           "median_event_to_offer_seconds": row.median_event_to_offer_s,
                           "median_offer_to_decision_seconds": row.median_offer_to_decision_s}
                          for policy, row in figures.by_policy],
            "warnings": {"raised": figures.warnings.raised, "confirmed": figures.warnings.confirmed,
                         "rejected": figures.warnings.rejected, "confirmed_share": figures.warnings.confirmed_share}}
