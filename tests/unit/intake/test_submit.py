"""Intake.submit with in-memory ports: what is answered, and that no claim outlives a submission not answered 202."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from services.core.codec import Event, load_contract
from services.intake.domain.submission import judge_structured
from services.intake.metrics import IntakeMetrics
from services.intake.service import Claim, Delivery, Intake, Outcome, Unavailable
from tests.conftest import discharge

CONTRACT = load_contract()


class MemorySeen:
    def __init__(self, fail_on: str | None = None):
        self.state: dict[tuple[str, str, str], str] = {}
        self.fail_on = fail_on

    def _check(self, step: str) -> None:
        if self.fail_on == step:
            raise Unavailable(step)

    async def claim(self, department: str, events: Sequence[Event]) -> list[Claim]:
        self._check("claim")
        answers = []
        for e in events:
            key = (department, e.source, e.id)
            previous = self.state.get(key)
            if previous is None:
                self.state[key] = "pending"
            answers.append(Claim.NEW if previous is None else
                           Claim.DUPLICATE if previous == "published" else Claim.IN_FLIGHT)
        return answers

    async def confirm(self, department: str, events: Sequence[Event]) -> None:
        self._check("confirm")
        for e in events:
            self.state[(department, e.source, e.id)] = "published"

    async def release(self, department: str, events: Sequence[Event]) -> None:
        self._check("release")
        for e in events:
            if self.state.get((department, e.source, e.id)) == "pending":
                del self.state[(department, e.source, e.id)]


class ScriptedLog:
    def __init__(self, answer: Delivery | type[BaseException] = Delivery.WRITTEN):
        self.answer = answer
        self.written: list[Event] = []

    async def append(self, events: Sequence[Event]) -> list[Delivery]:
        if isinstance(self.answer, type):
            raise self.answer("scripted")
        if self.answer is Delivery.WRITTEN:
            self.written += events
        return [self.answer] * len(events)


def _intake(log: ScriptedLog, seen: MemorySeen) -> Intake:
    return Intake(log, seen, IntakeMetrics(CollectorRegistry()), CONTRACT)


def _verdict(n: int = 2):
    return judge_structured(CONTRACT, "health", [discharge() for _ in range(n)], lambda s: "p-" + s[::-1])


async def test_written_events_are_accepted_and_remembered_per_department():
    seen = MemorySeen()
    receipt = await _intake(ScriptedLog(), seen).submit("health", _verdict())
    assert receipt.outcome is Outcome.ACCEPTED and receipt.accepted == 2
    assert set(seen.state.values()) == {"published"}
    assert {department for department, _, _ in seen.state} == {"health"}


async def test_a_record_the_log_refuses_as_too_large_is_413_and_leaves_no_claim():
    seen = MemorySeen()
    receipt = await _intake(ScriptedLog(Delivery.REFUSED), seen).submit("health", _verdict())
    assert receipt.outcome is Outcome.TOO_LARGE
    assert [p.index for p in receipt.problems] == [0, 1]
    assert seen.state == {}


async def test_a_log_that_fails_in_time_is_503_and_leaves_no_claim():
    for answer in (Delivery.FAILED, Unavailable):
        seen = MemorySeen()
        receipt = await _intake(ScriptedLog(answer), seen).submit("health", _verdict())
        assert receipt.outcome is Outcome.UNAVAILABLE
        assert seen.state == {}


async def test_an_unexpected_failure_of_the_log_releases_the_claims_and_propagates():
    seen = MemorySeen()
    try:
        await _intake(ScriptedLog(RuntimeError), seen).submit("health", _verdict())
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure must reach the caller")
    assert seen.state == {}


async def test_a_duplicate_guard_that_cannot_answer_is_503_before_anything_is_written():
    log = ScriptedLog()
    receipt = await _intake(log, MemorySeen(fail_on="claim")).submit("health", _verdict())
    assert receipt.outcome is Outcome.UNAVAILABLE
    assert log.written == []


async def test_written_events_are_202_even_when_the_guard_cannot_remember_them():
    receipt = await _intake(ScriptedLog(), MemorySeen(fail_on="confirm")).submit("health", _verdict())
    assert receipt.outcome is Outcome.ACCEPTED


async def test_an_event_in_flight_is_409_and_the_other_claims_of_the_batch_are_released():
    seen = MemorySeen()
    verdict = _verdict()
    busy = verdict.events[1]
    seen.state[("health", busy.source, busy.id)] = "pending"
    receipt = await _intake(ScriptedLog(), seen).submit("health", verdict)
    assert receipt.outcome is Outcome.CONFLICT
    assert list(seen.state) == [("health", busy.source, busy.id)]
