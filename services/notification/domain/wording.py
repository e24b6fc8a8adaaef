"""The words of a message, before any template: the programme's name, the amount in yuan, the reason and the link,
in the person's language. The programme's names and the reasons come from the catalogue's labels, carried by the
offer's explanation (services/core/reasons.py says them); an explanation written before labels existed gives its
summary as matching wrote it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.core import reasons
from services.notification.domain.contact import Language

_PERIODS = {
    Language.EN: {"MONTHLY": "per month", "ONE_OFF": "as a one-off payment", "PER_TERM": "per school term"},
    Language.ZH_CN: {"MONTHLY": "每月", "ONE_OFF": "一次性", "PER_TERM": "每学期"},
}
_SERVICE = {Language.EN: "a service (no cash amount)", Language.ZH_CN: "服务（无现金金额）"}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 105000 -> '1,050.00'."""
    return f"{fen / 100:,.2f}"


def policy_name(offer: Mapping[str, Any], language: Language) -> str:
    """The programme's name in the person's language, from the catalogue: the explanation's (or the item's own)
    `policy_names`, else the catalogue name the item carries."""
    explanation = offer.get("explanation") or {"policy_names": offer.get("policy_names") or {}}
    return reasons.policy_name(explanation, language.value) or str(offer["policy_name"])


def reason_text(explanation: Mapping[str, Any], language: Language) -> str:
    """Why, in plain words in the person's language (the summary when the explanation has no labels)."""
    return reasons.reason_text(explanation, language.value) or str(explanation.get("summary") or "")


def unmet_text(explanation: Mapping[str, Any], language: Language) -> str:
    """The conditions no longer met, in plain words; empty when the explanation has no labels for them."""
    said = reasons.condition_sentences(explanation, language.value, holding=False)
    return ("；".join(said) + "。" if language is Language.ZH_CN else ". ".join(said) + ".") if said else ""


def plain_reasons(explanation: Mapping[str, Any], language: Language) -> dict[str, Any]:
    """What the citizen page says of an explanation: the reason, each condition and how the amount is reached in
    plain words. `labelled` is False for an explanation written before labels existed (the page then shows what it
    carries as it was written)."""
    return {
        "labelled": bool(reasons.condition_sentences(explanation, language.value)),
        "reason": reason_text(explanation, language),
        "condition_sentences": [{"text": reasons.condition_sentence(c, language.value) or "",
                                 "holds": bool(c.get("holds"))} for c in explanation.get("conditions") or []],
        "amount_reason": reasons.amount_sentence(explanation, language.value),
        "unmet_sentences": reasons.condition_sentences(explanation, language.value, holding=False),
    }


def unmet_sentences(explanation: Mapping[str, Any] | None, language: Language) -> list[str]:
    """Why an application was not eligible: each condition not met in plain words (empty without labels)."""
    return reasons.condition_sentences(explanation or {}, language.value, holding=False)


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
        "reason": reason_text(explanation, language),
        "short_reason": (reasons.condition_sentences(explanation, language.value, holding=True) or [""])[0],
        "amount_reason": reasons.amount_sentence(explanation, language.value) or "",
        "unmet_reason": unmet_text(explanation, language),
        "legal_basis": str(explanation.get("legal_basis") or ""),
        "link": link,
        "link_expires": date_text(link_expires, language, zone),
        "approved": approved,
        "tier": offer.get("tier"),
    }
