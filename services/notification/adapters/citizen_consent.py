"""The citizen site's consent: the page (/consent) and API (/api/v1/consent) where a resident sees whether SMS and
e-mail may be used and withdraws consent to either or both. The withdrawal is a POST with the session's CSRF token;
a bad choice is refused naming `withdraw`. The in-app inbox and notices in person stay for critical notices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.notification.adapters import citizen_http as site
from services.notification.consent import ConsentDesk, ConsentView
from services.notification.domain.consent import WITHDRAWABLE, ConsentRefused
from services.notification.ports import Unavailable

CONSENT = web.AppKey("consent", ConsentDesk)


def add_consent_routes(app: web.Application, desk: ConsentDesk) -> None:
    app[CONSENT] = desk
    app.router.add_get("/consent", consent_page)
    app.router.add_post("/consent", withdraw_form)
    app.router.add_get("/api/v1/consent", api_consent)
    app.router.add_post("/api/v1/consent", api_withdraw)


def consent_model(view: ConsentView) -> dict[str, Any]:
    return {"channels": [{"channel": c.value, "usable": view.usable[c], "withdrawn": c in view.withdrawn}
                         for c in WITHDRAWABLE],
            "withdrawn_at": view.withdrawn_at.isoformat() if view.withdrawn_at else None}


async def consent_page(request: web.Request, notice: str | None = None, status: int = 200) -> web.Response:
    session = site._session(request)
    if session is None:
        return await site._page(request, None, "message", 401, text="sign_in")
    language = await site._language(request, session)
    view = await request.app[CONSENT].of_person(session.person_id)
    return await site._page(request, session, "consent", status,
                            csrf_token=request.app[site.DESK].signer.csrf_token(session),
                            notice=request.app[site.PAGES].text(language, notice) if notice else None,
                            **consent_model(view))


async def withdraw_form(request: web.Request) -> web.Response:
    signed = await site.signed_form(request)
    if isinstance(signed, web.Response):
        return signed
    session, form = signed
    try:
        await request.app[CONSENT].withdraw(session.person_id, form.getall("withdraw", []))
    except ConsentRefused:
        return await consent_page(request, "consent_choose", 400)
    except Unavailable:
        return await site._page(request, session, "message", 503, text="unavailable")
    return await consent_page(request, "consent_withdrawn")


async def api_consent(request: web.Request) -> web.Response:
    session = site._api_session(request)
    return web.json_response(consent_model(await request.app[CONSENT].of_person(session.person_id)))


async def api_withdraw(request: web.Request) -> web.Response:
    signed = await site.signed_json(request)
    if isinstance(signed, web.Response):
        return signed
    session, body = signed
    channels = body.get("withdraw")
    if not isinstance(channels, list):
        return site._problem(400, "withdraw: a list of channels (SMS, EMAIL) is required")
    try:
        view = await request.app[CONSENT].withdraw(session.person_id, channels)
    except ConsentRefused as refused:
        return site._problem(400, str(refused))
    except Unavailable:
        return site._problem(503, "the withdrawal could not be recorded just now; try again in a moment")
    return web.json_response(consent_model(view))
