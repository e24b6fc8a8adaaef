"""An offer withdrawn and then offered again under the same id (matching reinstates it when a late fact reverses
the withdrawal): a later publication that is not a withdrawal reopens the chain, and the citizen is told the offer
again, as an offer; anything else after a withdrawal changes nothing; an answer given before the offer was made
again does not answer it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.notification.adapters.citizen_pages import offer_model
from services.notification.domain.answers import OfferState, OfferView, answer_stands
from services.notification.domain.contact import Language
from services.notification.domain.revisions import Follows, Notice, figure_stands, follows, offered_again
from services.notification.rendering import MessageTemplates
from tests.unit.notification.offers import NOW, offer

LINK = "https://assist.example/c/v1.p1.o-x.1.sig"


def published(change: str, number: int, amount: int | None = 150_000) -> dict:
    """The offer as matching publishes it again: a withdrawal, a revision, or the offer made again."""
    reason = {"WITHDRAWN": "Withdrawn: income above the standard.", "REVISED": "Amount revised from 800 to 1500.",
              "AGAIN": "Offered again: Eligible because the income is below the standard."}[change]
    return offer(amount_fen=None if change == "WITHDRAWN" else amount,
                 change="REVISED" if change == "AGAIN" else change,
                 revision={"number": number, "previous_amount_fen": None if change == "AGAIN" else 80_000,
                           "previous_summary": "The offer was withdrawn." if change == "AGAIN" else "Before.",
                           "previous_computation": None, "reason": reason, "changed_facts": [],
                           "received": False})


@pytest.mark.parametrize(("change", "number", "expected"), [
    ("AGAIN", 2, Follows.REOPENS), ("REVISED", 3, Follows.REOPENS),  # any later publication but a withdrawal
    ("AGAIN", 1, Follows.STALE), ("AGAIN", 0, Follows.STALE),        # not later than the withdrawal
    ("WITHDRAWN", 2, Follows.STALE),                                  # a second withdrawal
])
def test_after_a_withdrawal_only_a_later_publication_that_is_not_a_withdrawal_reopens_the_chain(
        change, number, expected):
    assert follows(published(change, number), standing=1, closed=True) is expected


def test_a_new_offer_after_a_withdrawal_of_its_id_changes_nothing():
    assert follows(offer(), standing=1, closed=True) is Follows.STALE


@pytest.mark.parametrize(("change", "number", "expected"), [
    ("REVISED", 2, Follows.APPLIES), ("WITHDRAWN", 2, Follows.APPLIES), ("REVISED", 1, Follows.STALE),
])
def test_while_the_chain_is_open_the_highest_number_stands(change, number, expected):
    assert follows(published(change, number), standing=1, closed=False) is expected


def test_the_offer_made_again_is_recognised_by_its_publication():
    assert offered_again(published("AGAIN", 2))
    assert not offered_again(published("REVISED", 2)) and not offered_again(offer())
    assert not offered_again(published("WITHDRAWN", 1))


def test_a_revision_that_only_moves_the_caseworker_s_deadline_tells_the_citizen_nothing():
    moved = published("REVISED", 2, amount=80_000)
    moved["revision"]["reason"] = "Due date moved: the household qualified with the reports of 2026-11-05."
    assert figure_stands(moved)
    assert not figure_stands(published("REVISED", 2)) and not figure_stands(published("AGAIN", 2, amount=None))
    assert not figure_stands(published("WITHDRAWN", 2)) and not figure_stands(offer())


def test_an_answer_given_before_the_offer_was_made_again_does_not_answer_it():
    made_again = NOW
    assert not answer_stands(NOW - dt.timedelta(minutes=5), made_again)
    assert answer_stands(NOW + dt.timedelta(minutes=5), made_again)
    assert answer_stands(NOW - dt.timedelta(minutes=5), None)  # never withdrawn and made again


@pytest.mark.parametrize(("language", "figure"), [(Language.EN, "¥1,500.00"), (Language.ZH_CN, "1,500.00 元")])
def test_the_offer_made_again_is_told_as_the_offer_with_its_figure_not_as_a_revision(language, figure):
    message = MessageTemplates().render(published("AGAIN", 2), language, LINK, NOW + dt.timedelta(days=30), False,
                                        ZoneInfo("Asia/Shanghai"), Notice.OFFER)
    text = f"{message.subject}\n{message.short}\n{message.body}"
    assert figure in text and LINK in text
    assert "revised" not in text and "调整" not in text and "800.00" not in text


@pytest.mark.parametrize(("language", "words"), [(Language.EN, "offered to you again"), (Language.ZH_CN, "再次")])
def test_the_page_shows_the_offer_made_again_as_open_and_says_so(language, words):
    model = offer_model(OfferView(published("AGAIN", 2), OfferState.OFFERED), language)
    assert model["open"] and not model["withdrawn"] and model["state"] == "OFFERED"
    assert words in model["change_text"] and "800" not in model["change_text"]
    assert model["not_met"] == []
