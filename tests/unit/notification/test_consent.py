"""Withdrawing consent to SMS and e-mail: which details are erased, what stays, and when the registry's record is
a new consent."""

from __future__ import annotations

import datetime as dt

import pytest

from services.notification.domain.consent import (
    ConsentRefused,
    Withdrawal,
    withdrawal_from_record,
    withdrawal_record,
    withdrawn_channels,
    without_withdrawn,
)
from services.notification.domain.contact import Channel, contact_from_record
from services.notification.domain.plan import plan_delivery

AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def contact(**fields: object) -> dict[str, object]:
    record: dict[str, object] = {"person_id": "p-1", "phone": "+8613800000000", "email": "a@mail.test",
                                 "channels": ["SMS", "EMAIL"], "language": "zh_CN",
                                 "consented_at": AT - dt.timedelta(days=30)}
    record.update(fields)
    return record


def test_withdrawing_sms_erases_the_phone_and_keeps_email_and_the_inbox() -> None:
    usable = without_withdrawn(contact(), Withdrawal("p-1", frozenset({Channel.SMS}), AT))
    assert usable["phone"] is None and usable["email"] == "a@mail.test"
    assert usable["channels"] == ["EMAIL", "INBOX"]


def test_withdrawing_both_leaves_only_the_inbox_and_visits_for_critical_notices() -> None:
    usable = without_withdrawn(contact(elderly_living_alone=True),
                               Withdrawal("p-1", frozenset({Channel.SMS, Channel.EMAIL}), AT))
    assert (usable["phone"], usable["email"], usable["channels"]) == (None, None, ["INBOX"])
    plan = plan_delivery({"route": "AUTO_OFFER", "tier": "basic"}, contact_from_record(usable))
    assert plan.chain == (Channel.INBOX,)
    assert plan.in_person_reason is not None  # elderly, living alone, no phone: a caseworker goes


def test_a_consent_the_registry_recorded_after_the_withdrawal_is_used_whole() -> None:
    again = contact(consented_at=AT + dt.timedelta(days=1))
    assert without_withdrawn(again, Withdrawal("p-1", frozenset({Channel.SMS}), AT)) == again


def test_the_same_contact_record_read_again_after_a_withdrawal_stays_erased() -> None:
    withdrawal = Withdrawal("p-1", frozenset({Channel.EMAIL}), AT)
    once = without_withdrawn(contact(), withdrawal)
    assert without_withdrawn(once, withdrawal) == once and once["email"] is None


def test_withdrawals_accumulate_and_round_trip_through_the_record() -> None:
    first = Withdrawal("p-1", frozenset({Channel.SMS}), AT)
    both = Withdrawal("p-1", frozenset({Channel.EMAIL}), AT + dt.timedelta(hours=1)).merged(first)
    assert both.channels == {Channel.SMS, Channel.EMAIL} and both.at == AT + dt.timedelta(hours=1)
    record = withdrawal_record(both)
    assert record["withdrawn"] == ["SMS", "EMAIL"]
    assert withdrawal_from_record(record) == both


@pytest.mark.parametrize("names", [[], ["INBOX"], ["VISIT"], ["sms"], [None], ["SMS", "FAX"], [{}], [["SMS"]]])
def test_only_sms_and_email_can_be_withdrawn_and_the_refusal_names_the_field(names: list[object]) -> None:
    with pytest.raises(ConsentRefused) as refused:
        withdrawn_channels(names)
    assert refused.value.field == "withdraw" and str(refused.value).startswith("withdraw:")
