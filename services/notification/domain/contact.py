"""A person's consented contact details and preferences (schemas/records/contact.avsc), as the domain reads them."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Shanghai"
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class Channel(enum.StrEnum):
    """Ways to reach a person. VISIT is a caseworker delivering the notice in person."""

    SMS = "SMS"
    EMAIL = "EMAIL"
    INBOX = "INBOX"
    VISIT = "VISIT"


class Language(enum.StrEnum):
    ZH_CN = "zh_CN"
    EN = "en"

    @classmethod
    def parse(cls, value: str | None) -> Language | None:
        """'en', 'zh_CN', 'zh-CN' or 'zh' (any case); None for anything else."""
        text = (value or "").strip().replace("-", "_").lower()
        if text == "en":
            return cls.EN
        if text in ("zh_cn", "zh"):
            return cls.ZH_CN
        return None


@dataclass(frozen=True)
class QuietHours:
    """A daily local-time window [start, end) in which non-critical messages wait; may cross midnight."""

    start: dt.time
    end: dt.time

    def end_if_quiet(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
        """When the current quiet window ends (UTC), or None when `now` is outside quiet hours."""
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            quiet, ends_tomorrow = self.start <= clock < self.end, False
        else:  # crosses midnight, e.g. 22:00-07:00
            quiet, ends_tomorrow = clock >= self.start or clock < self.end, clock >= self.start
        if not quiet:
            return None
        day = local.date() + dt.timedelta(days=1 if ends_tomorrow else 0)
        return dt.datetime.combine(day, self.end, tzinfo=zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Contact:
    """What notification may use to reach one person; `channels` lists the consented ones in preferred order."""

    person_id: str
    phone: str | None
    email: str | None
    channels: tuple[Channel, ...]
    language: Language
    time_zone: str = DEFAULT_TIME_ZONE
    quiet_hours: QuietHours | None = None
    opted_out_non_critical: bool = False
    elderly_living_alone: bool = False

    def zone(self) -> ZoneInfo:
        """The person's IANA zone; an unknown name falls back to Asia/Shanghai rather than dropping quiet hours."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIME_ZONE)

    def address(self, channel: Channel) -> str | None:
        """The address a channel needs: phone for SMS, e-mail for EMAIL, the person id for the inbox."""
        if channel is Channel.SMS:
            return self.phone
        if channel is Channel.EMAIL:
            return self.email
        return self.person_id if channel is Channel.INBOX else None

    def usable_channels(self) -> tuple[Channel, ...]:
        """Consented channels, in order, for which the needed detail is present."""
        return tuple(c for c in self.channels if self.address(c))


def contact_from_record(record: Mapping[str, Any]) -> Contact:
    """Read a decoded Contact record; malformed quiet hours are ignored rather than guessed."""
    channels: list[Channel] = []
    for name in record.get("channels") or ():
        channel = Channel(name)
        if channel is not Channel.VISIT and channel not in channels:
            channels.append(channel)
    return Contact(
        person_id=str(record["person_id"]),
        phone=record.get("phone") or None,
        email=record.get("email") or None,
        channels=tuple(channels),
        language=Language.parse(record.get("language")) or Language.ZH_CN,
        time_zone=str(record.get("time_zone") or DEFAULT_TIME_ZONE),
        quiet_hours=quiet_hours(record.get("quiet_from"), record.get("quiet_until")),
        opted_out_non_critical=bool(record.get("opted_out_non_critical")),
        elderly_living_alone=bool(record.get("elderly_living_alone")),
    )


def quiet_hours(start: str | None, end: str | None) -> QuietHours | None:
    """QuietHours from 'HH:MM' texts; None when either is missing or malformed, or both are equal."""
    parsed = [_clock(t) for t in (start, end)]
    first, second = parsed
    if first is None or second is None or first == second:
        return None
    return QuietHours(first, second)


def _clock(text: str | None) -> dt.time | None:
    match = _CLOCK.match(text or "")
    return dt.time(int(match.group(1)), int(match.group(2))) if match else None
