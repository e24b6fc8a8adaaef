"""Applications through matching: the decision on one programme, the answer, and the plain-word reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from services.core.codec import Event, decode_record, encode_event, encode_record, load_contract
from services.core.topics import APPLICATION_ANSWERS, TASKS
from services.matching.domain.applications import ANSWERS_KEPT, Outcome, decide, remember_answer
from services.matching.domain.explanation import negated
from services.matching.domain.household.state import from_dict, from_registry, to_dict
from services.matching.messages import Application
from tests.unit.matching.test_handler import CATALOGUE, MATCHER, NOW, registry

CONTRACT = load_contract()


def application(policy_id: str = "subsistence_allowance", person: str = "p1", application_id: str = "a-1"
                ) -> Application:
    return Application(Event(application_id, "/civil_affairs/citizen-page", "application.submitted", NOW, person,
                             {"policy_id": policy_id, "channel": "CITIZEN_PAGE", "applied_by": "citizen"}))


def answer_of(result):  # the one ApplicationAnswer of a result
    [answer] = [o for o in result.outputs if o.record == "application_answer"]
    assert answer.topic == APPLICATION_ANSWERS.name
    decode_record(CONTRACT, "application_answer", encode_record(CONTRACT, "application_answer", answer.value))
    return answer


def test_an_eligible_application_opens_the_same_verification_task_as_the_proactive_path() -> None:
    state = from_registry(registry(income=0))  # eligible for the subsistence allowance, nothing offered yet
    result = MATCHER.on_application(state, application(), CATALOGUE, NOW)
    [task] = [o for o in result.outputs if o.record == "caseworker_task"]
    proactive = next(o for o in MATCHER.on_reevaluation(state, CATALOGUE, NOW).outputs
                     if o.record == "caseworker_task" and o.value["offer"]["policy_id"] == "subsistence_allowance")
    assert task.topic == TASKS.name and task.id == proactive.id
    assert task.value["offer"]["offer_id"] == proactive.value["offer"]["offer_id"]
    assert task.value["offer"]["amount_fen"] == proactive.value["offer"]["amount_fen"] == 240_000
    assert task.value["offer"]["explanation"] == proactive.value["offer"]["explanation"]
    assert task.value["offer"]["trigger_event_id"] == "a-1" and task.value["evidence_event_ids"] == ["a-1"]
    answer = answer_of(result)
    assert answer.key == "h1"
    assert answer.value["outcome"] == "VERIFICATION_OPENED"
    assert (answer.value["offer_id"], answer.value["task_id"]) == (task.value["offer"]["offer_id"], task.id)
    assert answer.value["explanation"]["eligible"] is True
    assert result.state is not None and task.value["offer"]["offer_id"] in result.state.pending_offers


def test_an_application_while_the_offer_is_pending_is_answered_already_pending_with_its_task() -> None:
    state = from_registry(registry(income=0))
    first = MATCHER.on_application(state, application(), CATALOGUE, NOW)
    again = MATCHER.on_application(first.state, application(application_id="a-2"), CATALOGUE, NOW)
    answer = answer_of(again)
    assert [o.record for o in again.outputs] == ["application_answer"]
    assert answer.value["outcome"] == "ALREADY_PENDING"
    assert (answer.value["offer_id"], answer.value["task_id"]) == (answer_of(first).value["offer_id"],
                                                                  answer_of(first).value["task_id"])


def test_a_redelivered_application_gets_the_same_answer_and_no_second_offer() -> None:
    state = from_registry(registry(income=0))
    first = MATCHER.on_application(state, application(), CATALOGUE, NOW)
    stored = from_dict(to_dict(first.state))
    again = MATCHER.on_application(stored, application(), CATALOGUE, NOW + dt.timedelta(minutes=3))
    assert [o.record for o in again.outputs] == ["application_answer"]
    assert answer_of(again).value == answer_of(first).value
    assert again.state == stored


def test_an_application_by_a_household_above_the_line_is_not_eligible_because_in_plain_words() -> None:
    state = from_registry(registry(income=300_000))
    answer = answer_of(MATCHER.on_application(state, application(), CATALOGUE, NOW))
    assert answer.value["outcome"] == "NOT_ELIGIBLE" and answer.value["offer_id"] is None
    assert answer.value["reasons"] == ["not eligible, because the household's monthly income per person is not "
                                       "below the local subsistence standard"]
    assert answer.value["explanation"]["eligible"] is False


def test_an_application_for_what_the_household_receives_is_answered_already_receiving() -> None:
    state = from_registry(registry(income=0, benefits=("subsistence_allowance",)))
    result = MATCHER.on_application(state, application(), CATALOGUE, NOW)
    assert answer_of(result).value["outcome"] == "ALREADY_RECEIVING"
    assert [o.record for o in result.outputs] == ["application_answer"]


def test_an_application_for_an_unknown_programme_or_by_an_unknown_person_says_so() -> None:
    state = from_registry(registry())
    unknown_policy = answer_of(MATCHER.on_application(state, application("no_such_programme"), CATALOGUE, NOW))
    assert unknown_policy.value["outcome"] == "UNKNOWN_POLICY" and unknown_policy.value["policy_name"] is None
    stranger = answer_of(MATCHER.on_application(state, application(person="p-stranger"), CATALOGUE, NOW))
    assert stranger.value["outcome"] == "UNKNOWN_PERSON" and stranger.key == "h1"
    nobody = MATCHER.on_application(None, application(person="p-nobody"), CATALOGUE, NOW)
    assert nobody.state is None and answer_of(nobody).key == "p-nobody"
    assert answer_of(nobody).value["outcome"] == "UNKNOWN_PERSON"


def test_a_member_programme_is_decided_for_the_applicant() -> None:
    record = registry()
    record["members"][1]["disability_grade"] = 1  # p2
    state = from_registry(record)
    decision = decide(state, CATALOGUE, "p2", "severe_disability_nursing_subsistence", NOW.date())
    assert decision.outcome == Outcome.UNKNOWN_POLICY
    for_p2 = decide(state, CATALOGUE, "p2", "severe_disability_nursing_subsidy", NOW.date())
    for_p1 = decide(state, CATALOGUE, "p1", "severe_disability_nursing_subsidy", NOW.date())
    assert (for_p2.outcome, for_p2.key) == (Outcome.OFFERED, "severe_disability_nursing_subsidy@p2")
    assert for_p1.outcome == Outcome.NOT_ELIGIBLE
    assert for_p1.reasons == ("not eligible, because the person does not have a grade 1 or 2 disability",)


def test_a_household_keeps_only_its_newest_answers() -> None:
    state = from_registry(registry())
    for i in range(ANSWERS_KEPT + 5):
        state = remember_answer(state, f"a-{i}", {"answered_at": i})
    assert len(state.answers) == ANSWERS_KEPT
    assert "a-0" not in state.answers and f"a-{ANSWERS_KEPT + 4}" in state.answers


@pytest.mark.parametrize(("meaning", "reads"), [
    ("the household's monthly income per person is below the local subsistence standard",
     "the household's monthly income per person is not below the local subsistence standard"),
    ("the household's financial assets per person are at most 24 months of the standard",
     "the household's financial assets per person are not at most 24 months of the standard"),
    ("the person lives alone", "the person does not live alone"),
    ("the person has no income", "the person has some income"),
    ("no one of working age in the household earns an income",
     "someone of working age in the household earns an income"),
    ("the household lost its home", "the household did not lose its home"),
    ("the household receives or qualifies for the subsistence allowance",
     "it is not the case that the household receives or qualifies for the subsistence allowance"),
    ("a flood", "it is not the case that a flood"),
])
def test_a_meaning_reads_negated_by_its_one_verb_else_as_not_the_case(meaning: str, reads: str) -> None:
    assert negated(meaning) == reads


def test_every_condition_meaning_of_the_catalogue_reads_negated() -> None:
    for policy in CATALOGUE.policies:
        for condition in policy.conditions:
            if condition.meaning:
                said = negated(condition.meaning)
                assert said != condition.meaning and said.strip() == said


def test_the_application_event_passes_the_contract() -> None:
    value, headers = encode_event(CONTRACT, application().event)
    assert value and ("ce_type", b"application.submitted") in headers
