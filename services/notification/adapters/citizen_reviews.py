"""The citizen site's reviews: the page (/reviews) and API (/api/v1/reviews) where a resident asks for a review of a
decision they disagree with (an offer withdrawn from them, an application found not eligible) with a short reason,
and sees each request's outcome. Asking is a POST with the session's CSRF token; a refusal names the field
(reason: missing or longer than 500 characters; subject_id: not a decision of theirs, or asked already)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.notification.adapters import citizen_http as site
from services.notification.domain.contact import Language
from services.notification.domain.reviews import MAX_REASON_CHARS, ReviewRefused, ReviewRequest
from services.notification.domain.wording import policy_name
from services.notification.ports import Unavailable
from services.notification.reviews import ReviewChoice, ReviewDesk

REVIEWS = web.AppKey("reviews", ReviewDesk)
_STATUS = {"invalid": 400, "not_found": 404, "already": 409}


def add_review_routes(app: web.Application, desk: ReviewDesk) -> None:
    app[REVIEWS] = desk
    app.router.add_get("/reviews", reviews_page)
    app.router.add_post("/reviews", ask_form)
    app.router.add_get("/api/v1/reviews", api_reviews)
    app.router.add_post("/api/v1/reviews", api_ask)


def request_model(request: ReviewRequest) -> dict[str, Any]:
    return {"task_id": request.task_id, "policy_id": request.policy_id, "reason": request.reason,
            "asked_at": request.asked_at.isoformat(), "outcome": request.outcome or "WAITING",
            "outcome_reason": request.outcome_reason,
            "decided_at": request.decided_at.isoformat() if request.decided_at else None}


def _choice_model(choice: ReviewChoice, language: Language) -> dict[str, Any]:
    s = choice.subject
    return {"subject_id": s.subject_id, "kind": s.kind, "policy_id": s.policy_id,
            "policy": policy_name({"policy_id": s.policy_id, "policy_name": s.policy_name}, language),
            "reasons": list(s.reasons), "summary": str((s.explanation or {}).get("summary") or ""),
            "can_ask": s.district is not None and choice.request is None,
            "request": request_model(choice.request) if choice.request else None}


async def _listing(request: web.Request, person_id: str, language: Language) -> dict[str, Any]:
    desk = request.app[REVIEWS]
    return {"decisions": [_choice_model(c, language) for c in await desk.choices(person_id)],
            "requests": [{**request_model(r), "policy": policy_name(
                {"policy_id": r.policy_id, "policy_name": r.policy_name}, language)}
                for r in await desk.requests(person_id)],
            "max_reason": MAX_REASON_CHARS}


async def reviews_page(request: web.Request, notice: str | None = None, status: int = 200) -> web.Response:
    session = site._session(request)
    if session is None:
        return await site._page(request, None, "message", 401, text="sign_in")
    language = await site._language(request, session)
    return await site._page(request, session, "reviews", status,
                            csrf_token=request.app[site.DESK].signer.csrf_token(session),
                            notice=request.app[site.PAGES].text(language, notice) if notice else None,
                            **await _listing(request, session.person_id, language))


async def ask_form(request: web.Request) -> web.Response:
    signed = await site.signed_form(request)
    if isinstance(signed, web.Response):
        return signed
    session, form = signed
    try:
        await request.app[REVIEWS].ask(session.person_id, form.get("subject_id"), form.get("reason"))
    except ReviewRefused as refused:
        return await reviews_page(request, f"review_refused_{refused.field}_{refused.kind}", _STATUS[refused.kind])
    except Unavailable:
        return await site._page(request, session, "message", 503, text="unavailable")
    return await reviews_page(request, "review_asked")


async def api_reviews(request: web.Request) -> web.Response:
    session = site._api_session(request, takes_lang=True)
    language = await site._language(request, session)
    return web.json_response(await _listing(request, session.person_id, language))


async def api_ask(request: web.Request) -> web.Response:
    signed = await site.signed_json(request)
    if isinstance(signed, web.Response):
        return signed
    session, body = signed
    try:
        asked = await request.app[REVIEWS].ask(session.person_id, body.get("subject_id"), body.get("reason"))
    except ReviewRefused as refused:
        return site._problem(_STATUS[refused.kind], str(refused))
    except Unavailable:
        return site._problem(503, "the request could not be recorded just now; try again in a moment")
    return web.json_response(request_model(asked), status=201)
