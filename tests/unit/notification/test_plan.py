"""Delivery plans: channel order, language, quiet hours in the person's zone, opt-out, critical offers, and who
gets a caseworker in person."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from services.notification.domain.contact import Channel, Language
from services.notification.domain.plan import (
    ELDERLY_WITHOUT_PHONE,
    NO_CONTACT,
    NO_WORKING_CHANNEL,
    Defer,
    DeliverInPerson,
    Finish,
    Send,
    Suppress,
    is_critical,
    next_action,
    plan_delivery,
)
from tests.unit.notification.offers import NOW, contact, offer


def test_channels_follow_the_persons_preferred_order_and_language():
    state = plan_delivery(offer(), contact(channels=["EMAIL", "SMS", "INBOX"], language="en"))
    assert state.chain == (Channel.EMAIL, Channel.SMS, Channel.INBOX)
    assert state.language is Language.EN
    assert next_action(state, contact(), NOW) == Send(Channel.EMAIL, 1)


def test_a_channel_without_its_detail_is_left_out():
    state = plan_delivery(offer(), contact(phone=None))
    assert state.chain == (Channel.EMAIL, Channel.INBOX)


def test_subsistence_temporary_and_urgent_offers_are_critical():
    assert is_critical(offer("subsistence_allowance", tier="basic", priority=70))
    assert is_critical(offer("temporary_assistance", tier="temporary", priority=95))
    assert is_critical(offer("special_hardship", tier="special", priority=75))
    assert is_critical(offer("medical_assistance", tier="specialised", priority=80))
    assert not is_critical(offer("old_age_allowance", tier="elderly", priority=40))


def test_non_critical_offer_in_quiet_hours_waits_until_they_end_in_the_persons_zone():
    person = contact(quiet_from="22:00", quiet_until="07:00", time_zone="Asia/Shanghai")
    late = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    action = next_action(plan_delivery(offer(), person), person, late)
    assert action == Defer(Channel.SMS, 1, dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC))  # 07:00 next day


def test_quiet_hours_are_read_in_the_persons_own_time_zone():
    person = contact(quiet_from="22:00", quiet_until="07:00", time_zone="Europe/London")
    late_in_shanghai = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)  # 15:30 in London
    assert next_action(plan_delivery(offer(), person), person, late_in_shanghai) == Send(Channel.SMS, 1)


def test_quiet_hours_after_midnight_end_the_same_morning():
    person = contact(quiet_from="21:00", quiet_until="08:30")
    early = dt.datetime(2026, 11, 19, 21, 0, tzinfo=dt.UTC)  # 05:00 in Shanghai on the 20th
    action = next_action(plan_delivery(offer(), person), person, early)
    assert isinstance(action, Defer) and action.until == dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC)


def test_daytime_quiet_hours_within_one_day():
    person = contact(quiet_from="12:00", quiet_until="14:00")
    action = next_action(plan_delivery(offer(), person), person, NOW)  # 12:00 in Shanghai
    assert isinstance(action, Defer) and action.until == dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


def test_quiet_hours_end_is_exact_across_a_daylight_saving_change():
    person = contact(quiet_from="22:00", quiet_until="07:00", time_zone="Europe/Berlin")
    night = dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)  # 00:00 CET; clocks go forward at 02:00
    action = next_action(plan_delivery(offer(), person), person, night)
    assert isinstance(action, Defer) and action.until == dt.datetime(2026, 3, 29, 5, 0, tzinfo=dt.UTC)  # 07:00 CEST


def test_critical_offer_ignores_quiet_hours():
    person = contact(quiet_from="22:00", quiet_until="07:00")
    late = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
    critical = offer("temporary_assistance", tier="temporary", priority=95)
    assert next_action(plan_delivery(critical, person), person, late) == Send(Channel.SMS, 1)


def test_malformed_or_empty_quiet_hours_are_ignored():
    for start, end in (("25:00", "07:00"), ("22:00", None), ("08:00", "08:00")):
        person = contact(quiet_from=start, quiet_until=end)
        assert person.quiet_hours is None


def test_opted_out_person_gets_no_non_critical_message_but_still_critical_ones():
    person = contact(opted_out_non_critical=True)
    assert next_action(plan_delivery(offer(), person), person, NOW) == Suppress(Channel.SMS)
    critical = offer("subsistence_allowance", tier="basic", priority=70)
    assert next_action(plan_delivery(critical, person), person, NOW) == Send(Channel.SMS, 1)


def test_elderly_person_living_alone_without_phone_gets_a_caseworker_and_the_other_channels():
    person = contact(phone=None, elderly_living_alone=True, channels=["SMS", "INBOX"])
    state = plan_delivery(offer("old_age_allowance", tier="elderly", priority=40), person)
    assert next_action(state, person, NOW) == DeliverInPerson(ELDERLY_WITHOUT_PHONE)
    assert next_action(replace(state, in_person_done=True), person, NOW) == Send(Channel.INBOX, 1)


def test_elderly_person_with_a_phone_is_messaged_normally():
    person = contact(elderly_living_alone=True)
    assert next_action(plan_delivery(offer(), person), person, NOW) == Send(Channel.SMS, 1)


def test_no_contact_or_no_working_channel_means_delivery_in_person():
    assert next_action(plan_delivery(offer(), None), None, NOW) == DeliverInPerson(NO_CONTACT)
    person = contact(phone=None, email=None, channels=["SMS", "EMAIL"])
    assert next_action(plan_delivery(offer(), person), person, NOW) == DeliverInPerson(NO_WORKING_CHANNEL)


def test_nothing_left_to_do_finishes():
    state = replace(plan_delivery(offer(), None), in_person_done=True)
    assert next_action(state, None, NOW) == Finish()
