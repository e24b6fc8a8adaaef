"""The citizen site's data-use log, "who used my data and why": the page (/data-use) and the API
(/api/v1/data-use), in zh-CN and en. It names the role and district of the staff who saw the person's contact
details, never the member of staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from services.notification.adapters import citizen_http as site
from services.notification.data_use import DataUse, DataUseDesk
from services.notification.domain.contact import Language
from services.notification.domain.data_use import word
from services.notification.domain.wording import policy_name

DATA_USE = web.AppKey("data_use", DataUseDesk)


def add_data_use_routes(app: web.Application, desk: DataUseDesk) -> None:
    app[DATA_USE] = desk
    app.router.add_get("/data-use", data_use_page)
    app.router.add_get("/api/v1/data-use", api_data_use)


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def data_use_model(use: DataUse, language: Language) -> dict[str, Any]:
    """What the page and the API show: per offer the events used and their departments (None when the offer does
    not say), and each disclosure of contact details in words."""
    return {
        "offers": [{"offer_id": o.view.offer_id, "policy": policy_name(o.view.offer, language),
                    "state": "WITHDRAWN" if o.view.withdrawn else o.view.state.value,
                    "events": [{"event_id": e.event_id, "trigger": e.trigger, "department": e.department,
                                "department_text": word(language, e.department) if e.department else None}
                               for e in o.events]} for o in use.offers],
        "contact_uses": [{"disclosure_id": u.disclosure_id, "role": u.role, "role_text": word(language, u.role),
                          "district": u.district, "purpose": u.purpose, "purpose_text": word(language, u.purpose),
                          "fields": list(u.fields), "fields_text": [word(language, f) for f in u.fields],
                          "at": u.at.isoformat(timespec="seconds").replace("+00:00", "Z"), "at_text": _when(u.at)}
                         for u in use.contact_uses],
    }


async def data_use_page(request: web.Request) -> web.Response:
    session = site._session(request)
    if session is None:
        return await site._page(request, None, "message", 401, text="sign_in")
    language = await site._language(request, session)
    use = await request.app[DATA_USE].of_person(session.person_id)
    return await site._page(request, session, "data_use", **data_use_model(use, language))


async def api_data_use(request: web.Request) -> web.Response:
    session = site._api_session(request, takes_lang=True)
    language = await site._language(request, session)
    return web.json_response(data_use_model(await request.app[DATA_USE].of_person(session.person_id), language))
