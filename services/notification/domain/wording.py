"""The words of a message, before any template: the programme's name, the amount in yuan, the reason and the link,
in the person's language. Summaries and conditions come from matching as written there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.notification.domain.contact import Language

POLICY_NAMES_ZH = {
    "subsistence_allowance": "最低生活保障",
    "marginal_household": "低保边缘家庭认定",
    "marginal_single_person_inclusion": "低保边缘家庭成员单人纳入低保",
    "special_hardship": "特困人员救助供养",
    "temporary_assistance": "临时救助",
    "medical_assistance": "医疗救助",
    "education_assistance": "教育救助",
    "employment_assistance": "就业救助",
    "housing_assistance": "住房救助",
    "disability_living_subsidy": "困难残疾人生活补贴",
    "severe_disability_nursing_subsidy": "重度残疾人护理补贴",
    "old_age_allowance": "高龄津贴",
    "elderly_care_services": "独居老人居家照护和助餐服务",
    "essential_expenditure_hardship": "支出型困难救助",
    "charity_referral": "慈善帮扶转介",
}
_PERIODS = {
    Language.EN: {"MONTHLY": "per month", "ONE_OFF": "as a one-off payment", "PER_TERM": "per school term"},
    Language.ZH_CN: {"MONTHLY": "每月", "ONE_OFF": "一次性", "PER_TERM": "每学期"},
}
_SERVICE = {Language.EN: "a service (no cash amount)", Language.ZH_CN: "服务（无现金金额）"}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 105000 -> '1,050.00'."""
    return f"{fen / 100:,.2f}"


def policy_name(offer: Mapping[str, Any], language: Language) -> str:
    if language is Language.ZH_CN:
        return POLICY_NAMES_ZH.get(str(offer["policy_id"]), str(offer["policy_name"]))
    return str(offer["policy_name"])


def amount_text(offer: Mapping[str, Any], language: Language) -> str:
    """'¥1,050.00 per month' or '每月 1,050.00 元'; a service when the offer has no amount."""
    fen = offer.get("amount_fen")
    if fen is None:
        return _SERVICE[language]
    period = _PERIODS[language].get(str(offer.get("amount_period")), "")
    if language is Language.ZH_CN:
        return f"{period} {yuan(int(fen))} 元".strip()
    return f"¥{yuan(int(fen))} {period}".strip()


def date_text(moment: dt.datetime, language: Language, zone: dt.tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日" if language is Language.ZH_CN else f"{local:%d %B %Y}"


def message_facts(offer: Mapping[str, Any], language: Language, link: str, link_expires: dt.datetime,
                  approved: bool, zone: dt.tzinfo) -> dict[str, Any]:
    """Everything a message template may say. No contact detail is ever among them."""
    explanation = offer.get("explanation") or {}
    revision = offer.get("revision") or {}
    return {
        "previous_amount": amount_text({**offer, "amount_fen": revision.get("previous_amount_fen")}, language),
        "change_reason": str(revision.get("reason") or ""),
        "changed_facts": [str(f) for f in revision.get("changed_facts") or []],
        "received": bool(revision.get("received")),
        "policy": policy_name(offer, language),
        "policy_id": offer["policy_id"],
        "amount": amount_text(offer, language),
        "has_amount": offer.get("amount_fen") is not None,
        "reason": str(explanation.get("summary") or ""),
        "legal_basis": str(explanation.get("legal_basis") or ""),
        "link": link,
        "link_expires": date_text(link_expires, language, zone),
        "approved": approved,
        "tier": offer.get("tier"),
    }
