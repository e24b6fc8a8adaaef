"""schemathesis against the OpenAPI documents of the casework API and the citizen API, each served for real (its own
thread and event loop, the stack's Redis and broker, a free loopback port). Requests carry genuine staff tokens and
citizen sessions, and path ids are often those of real tasks and offers, so they reach the handlers rather than
stopping at 401 or 404. Every response must be documented (status, content type, body schema, headers), and no
server error is allowed. ASSIST_SCHEMATHESIS_EXAMPLES sets the examples per operation (default 40)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from services.casework.adapters.openapi import OPENAPI as CASEWORK_OPENAPI
from services.casework.adapters.rebuild import declare_built
from services.casework.adapters.records import task_from_record
from services.casework.adapters.web import build_app
from services.casework.domain.scope import staff
from services.casework.wiring import casework_parts
from services.core.rate_limit import RateLimiter
from services.core.settings import load_settings
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.adapters.citizen_openapi import OPENAPI as CITIZEN_OPENAPI
from services.notification.adapters.redis_data_use import RedisDataUse
from services.notification.domain.data_use import contact_use
from services.notification.domain.link import Signer
from services.notification.wiring import citizen
from services.vault.wiring import vault_parts
from tests.integration.casework.applications_harness import application_contract, publish_catalogue
from tests.integration.casework.test_casework import CASEWORK_DB, task_record
from tests.integration.notification.notification_harness import forget_keys, offer_record, unique

EXAMPLES = int(os.environ.get("ASSIST_SCHEMATHESIS_EXAMPLES", "40"))
GENEROUS = RateLimiter(rate=10_000.0, burst=100_000)
"""The limits are documented (429); here they must not stop the generated requests from reaching the handlers."""
CASEWORKER = staff("sam", "caseworker", ["110105"])
SUPERVISOR = staff("sue", "supervisor", region="110000")
LINK_KEY = "schemathesis-link-key"

# Who may be named in a reassignment (a caseworker of the target district) is known only to the service: a
# well-formed reassignment may be refused with 400 (no_caseworker, caseworker_district, out_of_scope).
CASEWORK_CONFIG = SchemathesisConfig.from_str("""
[[operations]]
include-path = "/api/v1/tasks/{task_id}/reassign"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
""")
casework_schema = schemathesis.openapi.from_dict(CASEWORK_OPENAPI, config=CASEWORK_CONFIG)
citizen_schema = schemathesis.openapi.from_dict(CITIZEN_OPENAPI)
SENT: dict[str, Counter[int]] = {"casework": Counter(), "citizen": Counter()}


@dataclass
class Live:
    """An aiohttp application served from a thread of its own, so schemathesis' blocking client can call it."""

    url: str = ""
    seeds: dict[str, Any] = field(default_factory=dict)
    _stop: Callable[[], None] | None = None
    _thread: threading.Thread | None = None

    def start(self, serve: Callable[[Live], AbstractAsyncContextManager[web.Application]]) -> None:
        ready, failed = threading.Event(), []

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            self._stop = lambda: loop.call_soon_threadsafe(stop.set)
            try:
                async with serve(self) as app:
                    runner = web.AppRunner(app, access_log=None)
                    await runner.setup()
                    site = web.TCPSite(runner, "127.0.0.1", 0)
                    await site.start()
                    port = runner.addresses[0][1]
                    self.url = f"http://127.0.0.1:{port}"
                    ready.set()
                    await stop.wait()
                    await runner.cleanup()
            except BaseException as exc:
                failed.append(exc)
                ready.set()
                raise

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        assert ready.wait(30), "the server did not start within 30 s"
        if failed:
            raise failed[0]

    def close(self) -> None:
        if self._stop is not None and self._thread is not None:
            self._stop()
            self._thread.join(30)


@asynccontextmanager
async def casework_site(live: Live) -> AsyncIterator[web.Application]:
    catalogue = await publish_catalogue(load_settings())  # so applying is answered, never a 503 for want of one
    settings = replace(load_settings(), redis_url=CASEWORK_DB, matching_catalogue=catalogue)
    prefix = f"test:schemathesis:{uuid.uuid4().hex[:8]}"
    contract = application_contract(Path(tempfile.mkdtemp(prefix="schemathesis-schemas-")))
    async with casework_parts(settings, kafka=False, prefix=prefix, contract=contract,
                              staff_file=settings.data_dir / f"schemathesis-staff-{prefix[-8:]}.json") as parts, \
            vault_parts(load_settings(), f"{prefix}:vault") as vault:
        await declare_built(parts.redis, parts.keys)
        parts.staff.add(CASEWORKER, "a long schemathesis password")
        records = [task_record("110105"), task_record("110108"), task_record("110105", kind="VISIT")]
        await parts.board.take_in([task_from_record(r) for r in records])
        for r in records:  # a household the vault knows, so a disclosure may be shown (and recorded)
            await vault.vault.take_in({"person_id": r["person_id"], "household_id": r["household_id"],
                                       "name": "杨建国", "address": "冕宁县城厢镇建设路 12 号", "phone": None,
                                       "updated_at": dt.datetime.now(dt.UTC)})
        await parts.casework.claim(SUPERVISOR, records[2]["task_id"])  # an open task a supervisor holds
        live.seeds.update(task_ids=[r["task_id"] for r in records],
                          tokens=[parts.tokens.issue(CASEWORKER), parts.tokens.issue(SUPERVISOR)])
        try:
            yield build_app(parts.casework, parts.tokens, parts.staff, parts.metrics, settings.staff_token_key,
                            parts.redis.ping, GENEROUS, applying=parts.applying,
                            disclosing=parts.disclosing(vault.vault))
        finally:
            async for key in parts.redis.scan_iter(match=f"{prefix}:*", count=1000):
                await parts.redis.delete(key)
            async for key in vault.redis.scan_iter(match=f"{prefix}:vault:*", count=1000):
                await vault.redis.delete(key)
            parts.staff.remove(CASEWORKER.sub)


@asynccontextmanager
async def citizen_site(live: Live) -> AsyncIterator[web.Application]:
    prefix = unique("test:schemathesis:")
    catalogue = await publish_catalogue(load_settings())  # so applying is answered, never a 503 for want of one
    contract = application_contract(Path(tempfile.mkdtemp(prefix="schemathesis-schemas-")))
    async with citizen(replace(load_settings(), link_signing_key=LINK_KEY, matching_catalogue=catalogue), prefix,
                       contract=contract) as parts:
        person = unique("p")
        offers = [offer_record(person) for _ in range(3)]
        for offer in offers:
            await parts.views.add(person, offer)
        signer = Signer(LINK_KEY)
        cookie = signer.session_token(person, dt.datetime.now(dt.UTC))
        session = signer.read_session(cookie, dt.datetime.now(dt.UTC))
        assert session is not None
        live.seeds.update(offer_ids=[o["offer_id"] for o in offers], cookie=cookie, csrf=signer.csrf_token(session),
                          link=signer.link_token(person, offers[0]["offer_id"], dt.datetime.now(dt.UTC)))
        try:
            await RedisDataUse(parts.redis, prefix).disclosed(person, contact_use({  # someone saw this person's details
                "disclosure_id": unique("d-"), "actor_role": "CASEWORKER", "district": "110105", "purpose": "VISIT",
                "fields": ["name", "address", "phone"], "at": dt.datetime.now(dt.UTC)}))
            yield build_citizen_app(parts.desk, parts.metrics, secure_cookies=False, rate_limit=GENEROUS,
                                    applications=parts.applications, data_use=parts.data_use,
                                    consent=parts.consent, reviews=parts.reviews)
        finally:
            await forget_keys(parts.redis, prefix)


@pytest.fixture(scope="module")
def casework_live() -> Iterator[Live]:
    live = Live()
    live.start(casework_site)
    yield live
    live.close()
    print(f"\nschemathesis casework: {sum(SENT['casework'].values())} cases, {dict(sorted(SENT['casework'].items()))}")


@pytest.fixture(scope="module")
def citizen_live() -> Iterator[Live]:
    live = Live()
    live.start(citizen_site)
    yield live
    live.close()
    print(f"\nschemathesis citizen: {sum(SENT['citizen'].values())} cases, {dict(sorted(SENT['citizen'].items()))}")


def _sent_as_generated(case: Any, location: ParameterLocation) -> bool:
    """Whether credentials may be added at `location`: not when the case is deliberately wrong there (a missing
    or malformed token or cookie must be refused as generated)."""
    component = case.meta.components.get(location) if case.meta else None
    return component is None or component.mode is GenerationMode.POSITIVE


def _pick(case: Any, choices: list[str]) -> str | None:
    """A real id for about two cases in three, chosen by the generated data (so a failing example replays)."""
    token = repr(sorted((case.path_parameters or {}).items())) + repr(case.body)[:50]
    index = sum(token.encode()) % (len(choices) + 1)
    return choices[index] if index < len(choices) else None


@casework_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_casework_api_conforms_to_its_document_and_never_fails(case, casework_live):
    seeds = casework_live.seeds
    if case.path_parameters and "task_id" in case.path_parameters and (real := _pick(case, seeds["task_ids"])):
        case.path_parameters["task_id"] = real
    token = seeds["tokens"][len(repr(case.body)) % 2]
    headers = {"Authorization": f"Bearer {token}"} if _sent_as_generated(case, ParameterLocation.HEADER) else None
    response = case.call_and_validate(base_url=casework_live.url, headers=headers)
    SENT["casework"][response.status_code] += 1


@citizen_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_citizen_api_conforms_to_its_document_and_never_fails(case, citizen_live):
    seeds = citizen_live.seeds
    if case.path_parameters and "offer_id" in case.path_parameters and (real := _pick(case, seeds["offer_ids"])):
        case.path_parameters["offer_id"] = real
    if case.path_parameters and "token" in case.path_parameters and _pick(case, ["link"]):
        case.path_parameters["token"] = seeds["link"]
    headers = {"X-CSRF-Token": seeds["csrf"]} if case.headers and "X-CSRF-Token" in case.headers and _pick(
        case, ["csrf"]) else None
    signed_in = _sent_as_generated(case, ParameterLocation.COOKIE)
    response = case.call_and_validate(base_url=citizen_live.url, headers=headers,
                                      cookies={"assist_session": seeds["cookie"]} if signed_in else None)
    SENT["citizen"][response.status_code] += 1
