"""The continuity guard: a message is handled only as the next one of its partition; one past a missing offset is
held and the partition sought back; one handled before is recognised; a missing offset that never comes back is
told once after a bounded number of seeks, and given up on only when the broker no longer has it."""

from __future__ import annotations

from services.matching.adapters.continuity import Admission, Continuity, Verdict

EVENTS = "assist.events"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock | None = None) -> Continuity:
    return Continuity(frozenset({EVENTS}), clock=clock or Clock(), attempts=2, patience_seconds=5.0)


def test_messages_in_order_from_the_committed_offset_are_handled():
    continuity = guard()
    assert [continuity.admit(EVENTS, 0, n, committed=10).admission for n in (10, 11, 12)] == [Admission.HANDLE] * 3


def test_a_message_past_a_missing_one_is_held_and_the_partition_sought_back_to_it():
    continuity = guard()
    assert continuity.admit(EVENTS, 0, 10, committed=10) == Verdict(Admission.HANDLE)
    assert continuity.admit(EVENTS, 0, 12, committed=10) == Verdict(Admission.HOLD, seek_to=11)
    assert continuity.admit(EVENTS, 0, 13, committed=10) == Verdict(Admission.HOLD)  # one seek per attempt
    assert [continuity.admit(EVENTS, 0, n, committed=10).admission for n in (11, 12, 13)] == [Admission.HANDLE] * 3


def test_the_first_message_after_an_assignment_counts_from_the_committed_offset():
    continuity = guard()
    assert continuity.admit(EVENTS, 3, 304, committed=302) == Verdict(Admission.HOLD, seek_to=302)


def test_a_message_handled_before_is_recognised_and_not_handled_again():
    continuity = guard()
    for n in (5, 6, 7):
        continuity.admit(EVENTS, 0, n, committed=5)
    assert continuity.admit(EVENTS, 0, 6, committed=5).admission is Admission.SEEN
    assert continuity.admit(EVENTS, 0, 8, committed=5).admission is Admission.HANDLE


def test_below_the_committed_offset_is_seen_after_a_rebalance():
    continuity = guard()
    continuity.admit(EVENTS, 0, 5, committed=5)
    continuity.reset()
    assert continuity.admit(EVENTS, 0, 7, committed=9).admission is Admission.SEEN
    assert continuity.admit(EVENTS, 0, 9, committed=9).admission is Admission.HANDLE


def test_partitions_and_unchecked_topics_are_apart():
    continuity = guard()
    continuity.admit(EVENTS, 0, 5, committed=5)
    assert continuity.admit(EVENTS, 1, 50, committed=50).admission is Admission.HANDLE
    assert continuity.admit("assist.registry", 0, 99, committed=1).admission is Admission.HANDLE  # compacted: gaps


def test_a_missing_offset_that_never_comes_back_after_every_seek_is_told_once():
    clock = Clock()
    continuity = guard(clock)
    continuity.admit(EVENTS, 0, 10, committed=10)
    assert continuity.admit(EVENTS, 0, 14, committed=10) == Verdict(Admission.HOLD, seek_to=11)
    clock.now = 4.0
    assert continuity.admit(EVENTS, 0, 14, committed=10) == Verdict(Admission.HOLD)
    clock.now = 6.0
    assert continuity.admit(EVENTS, 0, 14, committed=10) == Verdict(Admission.HOLD, seek_to=11)
    clock.now = 12.0
    assert continuity.admit(EVENTS, 0, 14, committed=10) == Verdict(Admission.HOLD, missing=11)
    assert continuity.admit(EVENTS, 0, 15, committed=10) == Verdict(Admission.HOLD)


def test_only_an_offset_the_broker_no_longer_has_is_given_up_on():
    continuity = guard()
    continuity.admit(EVENTS, 0, 10, committed=10)
    continuity.admit(EVENTS, 0, 14, committed=10)
    assert continuity.give_up(EVENTS, 0, earliest=5) == 0  # still on the broker: the worker restarts instead
    assert continuity.give_up(EVENTS, 0, earliest=14) == 3
    assert continuity.admit(EVENTS, 0, 14, committed=10).admission is Admission.HANDLE


def test_without_a_committed_offset_the_first_message_sets_where_the_partition_stands():
    continuity = guard()
    assert continuity.admit(EVENTS, 0, 40, committed=None).admission is Admission.HANDLE
    assert continuity.admit(EVENTS, 0, 42, committed=None) == Verdict(Admission.HOLD, seek_to=41)
