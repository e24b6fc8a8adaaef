"""Matching's answer to a resident's application (schemas/records/application_answer.avsc) in plain words, as the
citizen page shows it."""

from __future__ import annotations

from services.core.application_views import Application
from services.notification.domain.contact import Language

_WORDS: dict[Language, dict[str, str]] = {
    Language.EN: {
        "WAITING": "Submitted; the answer comes in a moment.",
        "OFFERED": "You can receive it: see the offer.",
        "VERIFICATION_OPENED": "A caseworker is checking your situation; you will be told the outcome.",
        "ALREADY_PENDING": "You already have this waiting for an answer or a check; nothing more is needed.",
        "ALREADY_RECEIVING": "You already receive this.",
        "NOT_ELIGIBLE": "Not eligible, because {reasons}.",
        "UNKNOWN_POLICY": "This programme is not in the current list of programmes.",
        "UNKNOWN_PERSON": "Your household is not in the civil registry yet; please contact your local civil "
                          "affairs office.",
    },
    Language.ZH_CN: {
        "WAITING": "已提交，稍后给出答复。",
        "OFFERED": "您可以享受该项救助：请查看救助事项。",
        "VERIFICATION_OPENED": "工作人员正在核实您的情况，结果将告知您。",
        "ALREADY_PENDING": "您已有该事项在等待答复或核实，无需再次申请。",
        "ALREADY_RECEIVING": "您已在享受该项救助。",
        "NOT_ELIGIBLE": "不符合条件，原因：{reasons}。",
        "UNKNOWN_POLICY": "该项目不在当前的救助项目目录中。",
        "UNKNOWN_PERSON": "民政登记中暂无您的家庭信息，请联系当地民政部门。",
    },
}


def answer_words(application: Application, language: Language) -> str:
    """Matching's answer in a sentence the applicant can read."""
    reasons = "; ".join(str(r).rstrip(". ") for r in application.reasons) or "—"
    return _WORDS[language][application.outcome].format(reasons=reasons)
