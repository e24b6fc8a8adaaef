"""How the console and the API read filters and write money, times and languages."""

from __future__ import annotations

import pytest

from services.casework.adapters.console_text import language, money, text, when
from services.casework.adapters.web_forms import queue_query, verdict_of
from services.casework.domain.ordering import PriorityBand, SlaState
from services.casework.domain.tasks import Verdict
from services.casework.service import Invalid


def test_queue_query_reads_every_filter_and_ignores_empty_ones():
    q = queue_query({"district": "110105,110108", "band": "urgent", "sla": "due-soon", "policy": "medical",
                     "due_before": "2026-11-25", "state": "all", "offset": "50", "limit": "25", "lang": "en",
                     "extra": ""})
    assert q.keep.districts == {"110105", "110108"} and q.keep.band is PriorityBand.URGENT
    assert q.keep.sla is SlaState.DUE_SOON and q.keep.policy_id == "medical"
    assert q.keep.due_before_ms == 1_795_536_000_000  # 2026-11-25 00:00 China Standard Time
    assert (q.claimed, q.offset, q.limit) == (None, 50, 25)
    empty = queue_query({"district": "", "band": ""})
    assert empty.keep.districts is None and empty.keep.band is None and empty.claimed is False


@pytest.mark.parametrize("query", [{"district": "1101"}, {"band": "extreme"}, {"sla": "late"},
                                   {"due_before": "tomorrow"}, {"state": "done"}, {"limit": "1000"},
                                   {"offset": "-1"}, {"limit": "ten"}])
def test_bad_filters_are_refused(query):
    with pytest.raises(Invalid):
        queue_query(query)


def test_verdicts_are_read_in_either_spelling():
    assert verdict_of("approve") is Verdict.APPROVE and verdict_of("REJECTED") is Verdict.REJECT
    assert verdict_of("request_information") is Verdict.REQUEST_INFORMATION
    with pytest.raises(Invalid):
        verdict_of("nod")


def test_money_is_yuan_with_two_decimals_from_fen():
    assert money(200_000) == "¥2,000.00" and money(5) == "¥0.05" and money(-150) == "-¥1.50"
    assert money(None) == "—"


def test_times_are_shown_in_china_standard_time():
    assert when(1_795_536_000_000) == "2026-11-25 00:00"
    assert when(0) == "—"


def test_language_is_the_query_then_the_cookie_then_the_browser_then_chinese():
    assert language("en", "zh-CN", "zh") == "en"
    assert language(None, "en", "zh-CN") == "en"
    assert language("fr", None, "en-US,en;q=0.9") == "en"
    assert language(None, None, None) == "zh-CN"
    assert text("en", "approve") == "Approve" and text("zh-CN", "approve") == "批准"
