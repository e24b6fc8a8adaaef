"""Applying on a resident's behalf over HTTP: the task page's list of the resident's applications with matching's
answers and the form to apply (console), and POST /api/v1/tasks/{task_id}/applications (API)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.casework.applying import Applying
from services.casework.service import Unavailable
from services.core.application_views import Application

APPLYING = web.AppKey("applying", Applying)


def applying_of(request: web.Request) -> Applying:
    applying = request.app.get(APPLYING)
    if applying is None:
        raise Unavailable("this process makes no applications", "unavailable")
    return applying


def application_json(application: Application) -> dict[str, Any]:
    answer = application.answer or {}
    return {"application_id": application.application_id, "person_id": application.person_id,
            "policy_id": application.policy_id, "applied_by": application.applied_by,
            "outcome": application.outcome, "reasons": list(application.reasons),
            "offer_id": answer.get("offer_id"), "task_id": answer.get("task_id"),
            "policy_name": answer.get("policy_name")}


async def for_page(request: web.Request, person_id: str | None) -> dict[str, Any]:
    """What the task page shows: the programmes one may apply for and the resident's applications."""
    applying = request.app.get(APPLYING)
    if applying is None:
        return {"programmes": None, "applications": []}
    programmes = await applying.programmes() if person_id else None
    return {"programmes": programmes.items if programmes else None,
            "applications": await applying.of_person(person_id)}
