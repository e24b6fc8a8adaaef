"""Retention against the real Redis with a fixed clock: notification's purge removes inbox entries past the inbox
window and data-use log entries past three years and keeps the rest; the vault's purge removes staff-tally
disclosures older than its window and never one within three years; too short a window is refused naming the
setting."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from services.core.retention import RetentionRefused
from services.core.settings import Settings
from services.notification.__main__ import purge as purge_notification
from services.notification.adapters.redis_citizen import RedisInbox
from services.notification.adapters.redis_data_use import RedisDataUse
from services.notification.domain.contact import Language
from services.notification.domain.data_use import ContactUse
from services.notification.ports import Message
from services.vault.__main__ import purge as purge_vault
from services.vault.adapters.redis_store import RedisDisclosureTally
from services.vault.domain.disclosure import FIELDS, Disclosure, Purpose
from tests.integration.notification.notification_harness import forget_keys, unique

NOW = dt.datetime(2031, 6, 1, 12, 0, tzinfo=dt.UTC)
"""The purge's clock: fixed, so which entries are past their windows does not depend on the day of the run."""


def ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


async def test_notification_purge_removes_old_inbox_and_data_use_entries_and_keeps_the_rest(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = unique("test:notification:")
    person, other = unique("p-"), unique("p-")
    redis = Redis.from_url(settings.redis_url)
    inbox, log = RedisInbox(redis, prefix), RedisDataUse(redis, prefix)
    try:
        for who, age, key in ((person, 800, "n-old"), (person, 700, "n-recent"), (other, 731, "n-other-old")):
            message = Message(f"o-{key}", "subject", "short", "body", Language.EN)
            await inbox.restore(who, message, key, ago(age))
        for age, key in ((1200, "d-old"), (1000, "d-within-three-years"), (3, "d-new")):
            await log.disclosed(person, ContactUse(key, "CASEWORKER", "510107", "VISIT", ("name",), ago(age)))

        report = await purge_notification(replace(settings, inbox_retention_days=730), NOW, prefix)
        assert (report.inbox_removed, report.inbox_kept, report.uses_removed, report.uses_kept) == (2, 1, 1, 2)
        assert "2 inbox entries removed, 1 kept; 1 data-use log entries removed, 2 kept" in capsys.readouterr().out
        assert [i.notification_id for i in await inbox.items(person)] == ["n-recent"]
        assert await inbox.items(other) == [] and not await redis.exists(f"{prefix}:inbox-ids:{other}")
        assert [u.disclosure_id for u in await log.contact_uses(person)] == ["d-new", "d-within-three-years"]

        again = await purge_notification(replace(settings, inbox_retention_days=730), NOW, prefix)
        assert (again.inbox_removed, again.uses_removed) == (0, 0)  # a second run removes nothing more
        with pytest.raises(RetentionRefused, match=r"^ASSIST_DATA_USE_RETENTION_DAYS"):
            await purge_notification(replace(settings, data_use_retention_days=365), NOW, prefix)
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()


def disclosure(actor: str, age_days: int) -> Disclosure:
    return Disclosure(unique("d-"), actor, "CASEWORKER", "510107", unique("t-"), unique("hh-"), (), Purpose.VISIT,
                      FIELDS[Purpose.VISIT], ago(age_days))


async def test_vault_purge_keeps_every_disclosure_within_three_years(settings: Settings) -> None:
    prefix = unique("test:vault:")
    gone, staying = unique("cw-"), unique("cw-")
    redis = Redis.from_url(settings.redis_url)
    tally = RedisDisclosureTally(redis, prefix)
    try:
        await tally.note(disclosure(gone, 4 * 365))
        for age in (3 * 365 - 1, 400, 2):
            await tally.note(disclosure(staying, age))

        assert await purge_vault(settings, NOW, prefix) == (1, 3)
        left = await tally.since(0)
        assert {d.actor for d in left} == {staying} and len(left) == 3
        assert await redis.smembers(f"{prefix}:tally-actors") == {staying.encode()}
        with pytest.raises(RetentionRefused, match=r"^ASSIST_DISCLOSURE_RETENTION_DAYS: at least 1095 days"):
            await purge_vault(replace(settings, disclosure_retention_days=90), NOW, prefix)
        assert len(await tally.since(0)) == 3
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()
