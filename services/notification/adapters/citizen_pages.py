"""Server-rendered pages of the citizen site (Jinja2, autoescaped) in Simplified Chinese and English."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2

from services.core.application_views import Application
from services.notification.domain.answers import OfferView
from services.notification.domain.applications import answer_words
from services.notification.domain.contact import Language
from services.notification.domain.revisions import offered_again
from services.notification.domain.wording import amount_text, plain_reasons, policy_name, unmet_sentences
from services.notification.ports import InboxItem
from services.notification.rendering import TEMPLATES

TEXT: dict[Language, dict[str, str]] = {
    Language.EN: {
        "title": "My assistance", "offers": "My offers", "inbox": "Inbox", "switch_language": "中文",
        "amount": "What is offered", "why": "Why", "conditions": "Conditions checked", "condition": "Condition",
        "your_values": "With your information", "outcome": "Outcome", "met": "met", "not_met": "not met",
        "computation": "How the amount was computed", "legal_basis": "Legal basis",
        "accept": "Accept", "decline": "Decline", "back": "Back to my offers",
        "answer_note": "Accepting starts the payment or service. If you decline, it is not offered again unless "
                       "your situation changes.",
        "state_OFFERED": "Waiting for your answer", "state_ANSWERING": "Your answer is being recorded",
        "state_ACCEPTED": "You accepted this offer", "state_DECLINED": "You declined this offer",
        "no_offers": "You have no offers at the moment.", "inbox_empty": "No messages.",
        "recorded_ACCEPTED": "Thank you. You accepted this offer.",
        "recorded_DECLINED": "You declined this offer.",
        "link_invalid": "This link is not valid. Please open the link exactly as it is in your message.",
        "link_expired": "This link has expired. Please contact your local civil affairs office.",
        "sign_in": "To see your offers, open the link in the SMS or e-mail you received.",
        "not_found": "There is nothing here.", "forbidden": "Please reload the page and try again.",
        "already": "This offer was already answered.",
        "unavailable": "Your answer could not be recorded just now. Please try again in a minute.",
        "state_WITHDRAWN": "This offer was withdrawn",
        "applications": "My applications", "apply": "Apply", "apply_for": "Apply for a programme",
        "programme": "Programme", "apply_note": "You do not need documents to apply: departments' information is "
                                                "checked for you and you get an answer here.",
        "no_catalogue": "The list of programmes is not available at the moment; please try again later.",
        "no_applications": "You have not applied for anything yet.", "submitted": "Submitted",
        "answer": "Answer", "applied_by_caseworker": "Applied for you by a caseworker",
        "see_offer": "See the offer", "applied": "Your application was submitted.",
        "bad_programme": "Please choose a programme from the list.",
        "withdrawn_lead": "This offer was withdrawn: with the latest information government departments hold, you "
                          "no longer meet the conditions for {policy}. Nothing needs to be done. If you think this "
                          "is wrong, contact your local civil affairs office.",
        "withdrawn_refused": "This offer was withdrawn, so it can no longer be accepted or declined.",
        "not_met_now": "Conditions no longer met", "details": "Details",
        "revised_lead": "The amount was revised from {previous} to {amount} because your information changed.",
        "again_lead": "This offer was withdrawn, and is now offered to you again: with the latest information "
                      "government departments hold, you meet the conditions for {policy} again ({amount}).",
        "what_changed": "What changed", "receiving_note": "You already receive this; the new amount applies from "
                                                          "the next payment. Nothing needs to be done.",
        "data_use": "Who used my data and why",
        "data_use_lead": "Information government departments hold about you is used only to find assistance you may "
                         "be entitled to. Here is what was used for which offer, and every time staff saw your "
                         "contact details.",
        "events_used": "Department information used for your offers", "event": "Event",
        "trigger_event": "the change that started the check", "evidence_event": "shown to the caseworker",
        "department_not_recorded": "the sending department is not recorded with the offer",
        "no_events_named": "This offer names no department event.",
        "contact_uses": "Who saw your contact details", "when": "When", "who_saw": "Who",
        "district": "District", "what_seen": "What they saw", "list_separator": ", ",
        "no_contact_uses": "Nobody has seen your contact details.",
        "consent": "How we may contact you",
        "consent_lead": "You may withdraw your consent to be contacted by SMS or e-mail. Your phone number or e-mail "
                        "address is then erased from our notification service.",
        "consent_note": "Messages then reach you in this site's inbox, and important notices are brought to you "
                        "in person by a caseworker.",
        "channel_SMS": "SMS", "channel_EMAIL": "E-mail", "consent_in_use": "in use",
        "consent_not_given": "not given", "consent_withdrawn_state": "consent withdrawn, details erased",
        "consent_withdraw": "Withdraw consent", "consent_choose": "Please choose SMS, e-mail or both.",
        "consent_withdrawn": "Your consent was withdrawn and your details were erased.",
        "reviews": "Ask for a review",
        "reviews_lead": "If you disagree with a decision, you can ask for a caseworker of your district to review "
                        "it. Say in a few words why; the answer appears here.",
        "review_kind_WITHDRAWN": "offer withdrawn", "review_kind_NOT_ELIGIBLE": "application not eligible",
        "review_reason": "Why you disagree", "review_ask": "Ask for a review", "review_outcome": "Review",
        "review_outcome_WAITING": "asked for, waiting for a caseworker",
        "review_outcome_UPHELD": "decided in your favour",
        "review_outcome_STANDS": "the decision stands",
        "review_outcome_INFORMATION_REQUESTED": "the caseworker needs more information",
        "review_requests": "My requests for a review", "review_nothing": "There is no decision to review.",
        "review_no_district": "Please ask your local civil affairs office for a review of this decision.",
        "review_asked": "Your request for a review was sent to a caseworker.",
        "review_refused_reason_invalid": "Please say in a few words (at most 500 characters) why you disagree.",
        "review_refused_subject_id_not_found": "This decision cannot be reviewed here.",
        "review_refused_subject_id_already": "You already asked for a review of this decision.",
    },
    Language.ZH_CN: {
        "title": "我的救助", "offers": "我的救助事项", "inbox": "消息", "switch_language": "English",
        "amount": "救助内容", "why": "原因", "conditions": "核查的条件", "condition": "条件",
        "your_values": "您的信息", "outcome": "结果", "met": "符合", "not_met": "不符合",
        "computation": "金额计算", "legal_basis": "政策依据",
        "accept": "接受", "decline": "放弃", "back": "返回我的救助事项",
        "answer_note": "接受后将开始发放或提供服务。如果放弃，除非您的情况发生变化，不会再次为您提供。",
        "state_OFFERED": "等待您的答复", "state_ANSWERING": "正在记录您的答复",
        "state_ACCEPTED": "您已接受", "state_DECLINED": "您已放弃",
        "no_offers": "目前没有救助事项。", "inbox_empty": "暂无消息。",
        "recorded_ACCEPTED": "谢谢，您已接受。", "recorded_DECLINED": "您已放弃。",
        "link_invalid": "此链接无效，请按消息中的原样打开链接。",
        "link_expired": "此链接已过期，请联系当地民政部门。",
        "sign_in": "请打开您收到的短信或邮件中的链接查看救助事项。",
        "not_found": "未找到相关内容。", "forbidden": "请刷新页面后重试。",
        "already": "此事项已答复。",
        "unavailable": "暂时无法记录您的答复，请稍后再试。",
        "state_WITHDRAWN": "此事项已撤回",
        "applications": "我的申请", "apply": "申请", "apply_for": "申请救助项目", "programme": "救助项目",
        "apply_note": "申请无需提交材料：系统将为您核对各部门已掌握的信息，并在此给出答复。",
        "no_catalogue": "暂时无法获取救助项目目录，请稍后再试。", "no_applications": "您还没有提交申请。",
        "submitted": "提交时间", "answer": "答复", "applied_by_caseworker": "由工作人员代为申请",
        "see_offer": "查看救助事项", "applied": "您的申请已提交。", "bad_programme": "请从列表中选择救助项目。",
        "withdrawn_lead": "此救助事项已撤回：根据政府部门掌握的最新信息，您已不再符合{policy}的条件。"
                          "您无需办理任何手续。如有疑问，请联系当地民政部门。",
        "withdrawn_refused": "此事项已撤回，不能再接受或放弃。",
        "not_met_now": "不再符合的条件", "details": "详细说明",
        "revised_lead": "由于您的信息发生变化，金额已由{previous}调整为{amount}。",
        "again_lead": "此救助事项曾撤回，现再次向您提供：根据政府部门掌握的最新信息，"
                      "您重新符合{policy}的条件（{amount}）。",
        "what_changed": "变化情况", "receiving_note": "您已在享受此项救助，新金额自下次发放起执行，无需办理任何手续。",
        "data_use": "谁使用了我的信息，为什么",
        "data_use_lead": "政府部门掌握的您的信息仅用于查找您可能有权获得的救助。下面列出每项救助使用了哪些信息，"
                         "以及工作人员每一次查看您联系信息的情况。",
        "events_used": "救助事项使用的部门信息", "event": "事件",
        "trigger_event": "引起核查的变化", "evidence_event": "提供给个案工作人员的证据",
        "department_not_recorded": "救助事项中未记录发送部门",
        "no_events_named": "此救助事项未列明部门事件。",
        "contact_uses": "谁查看了您的联系信息", "when": "时间", "who_saw": "查看人",
        "district": "区县", "what_seen": "查看内容", "list_separator": "、",
        "no_contact_uses": "还没有人查看过您的联系信息。",
        "consent": "联系方式授权",
        "consent_lead": "您可以撤回通过短信或电子邮件联系您的授权。撤回后，您的手机号码或邮箱地址将从通知服务中删除。",
        "consent_note": "此后消息将发送到本网站的消息栏，重要通知由工作人员上门送达。",
        "channel_SMS": "短信", "channel_EMAIL": "电子邮件", "consent_in_use": "使用中",
        "consent_not_given": "未授权", "consent_withdrawn_state": "已撤回授权，信息已删除",
        "consent_withdraw": "撤回授权", "consent_choose": "请选择短信、电子邮件或两者。",
        "consent_withdrawn": "您的授权已撤回，相关信息已删除。",
        "reviews": "申请复核",
        "reviews_lead": "如果您对决定有异议，可以申请由所在区县的工作人员复核。请简要说明理由，答复将显示在这里。",
        "review_kind_WITHDRAWN": "救助事项已撤回", "review_kind_NOT_ELIGIBLE": "申请不符合条件",
        "review_reason": "您的异议理由", "review_ask": "申请复核", "review_outcome": "复核",
        "review_outcome_WAITING": "已申请，等待工作人员处理", "review_outcome_UPHELD": "复核结果有利于您",
        "review_outcome_STANDS": "维持原决定", "review_outcome_INFORMATION_REQUESTED": "工作人员需要补充信息",
        "review_requests": "我的复核申请", "review_nothing": "没有可以复核的决定。",
        "review_no_district": "请向当地民政部门申请复核此决定。",
        "review_asked": "您的复核申请已提交给工作人员。",
        "review_refused_reason_invalid": "请简要说明异议理由（不超过500字）。",
        "review_refused_subject_id_not_found": "此决定不能在这里申请复核。",
        "review_refused_subject_id_already": "您已经申请过复核此决定。",
    },
}


class Pages:
    def __init__(self, data_use: bool = False, consent: bool = False, reviews: bool = False) -> None:
        """`data_use`: the site serves the data-use log (the menu links to it); `consent`: the consent page;
        `reviews`: asking for a review."""
        self._data_use, self._consent, self._reviews = data_use, consent, reviews
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "pages"), autoescape=True,
                                       undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def render(self, name: str, language: Language, signed_in: bool, **values: Any) -> str:
        other = Language.EN if language is Language.ZH_CN else Language.ZH_CN
        values.setdefault("notice", None)
        return self._env.get_template(f"{name}.html.j2").render(
            t=TEXT[language], lang=language.value, html_lang=_html_lang(language), other_lang=other.value,
            other_html_lang=_html_lang(other), signed_in=signed_in, data_use_link=self._data_use,
            consent_link=self._consent, reviews_link=self._reviews, **values)

    def text(self, language: Language, key: str) -> str:
        return TEXT[language][key]


def _html_lang(language: Language) -> str:
    return "zh-CN" if language is Language.ZH_CN else "en"


def offer_model(view: OfferView, language: Language) -> dict[str, Any]:
    """What a page (or the JSON API) shows of one offer; a revision says in plain words what changed, a withdrawn
    offer why it was withdrawn, an offer made again after its withdrawal that it is offered again."""
    offer = view.offer
    explanation = offer.get("explanation") or {}
    revision = offer.get("revision") or None
    words = TEXT[language]
    name = policy_name(offer, language)
    said = None
    if view.withdrawn:
        said = words["withdrawn_lead"].format(policy=name)
    elif offered_again(offer):
        said = words["again_lead"].format(policy=name, amount=amount_text(offer, language))
    elif revision is not None and offer.get("change") == "REVISED":
        previous = amount_text({**offer, "amount_fen": revision.get("previous_amount_fen")}, language)
        said = words["revised_lead"].format(previous=previous, amount=amount_text(offer, language))
    return {
        "change": offer.get("change") or "NEW", "withdrawn": view.withdrawn, "change_text": said,
        "revision": None if revision is None else {
            "number": revision.get("number"), "reason": revision.get("reason"),
            "previous_amount_fen": revision.get("previous_amount_fen"),
            "changed_facts": list(revision.get("changed_facts") or []), "received": bool(revision.get("received"))},
        "not_met": [c for c in explanation.get("conditions") or [] if not c.get("holds")] if view.withdrawn else [],
        "offer_id": view.offer_id, "policy_id": offer["policy_id"], "policy": name,
        "amount": amount_text(offer, language), "amount_fen": offer.get("amount_fen"),
        "amount_period": offer.get("amount_period"), "state": view.state.value, "open": view.open,
        "answered_at": view.answered_at.isoformat() if view.answered_at else None,
        "reason": explanation.get("summary", ""), "conditions": list(explanation.get("conditions") or []),
        "computation": explanation.get("computation"), "legal_basis": explanation.get("legal_basis"),
        "created_at": offer.get("created_at"), **plain_reasons(explanation, language),
    }


def application_model(application: Application, language: Language) -> dict[str, Any]:
    """What "my applications" shows of one application: the programme, when, by whom, the answer in words."""
    answer = application.answer or {}
    return {"application_id": application.application_id, "policy_id": application.policy_id,
            "policy": policy_name({"policy_id": application.policy_id,
                                   "policy_name": answer.get("policy_name") or application.policy_id,
                                   "explanation": answer.get("explanation")}, language),
            "applied_by": application.applied_by, "outcome": application.outcome,
            "submitted_at": dt.datetime.fromtimestamp(application.submitted_at_ms / 1000, dt.UTC).isoformat()
            if application.submitted_at_ms else None,
            "answer": answer_words(application, language), "offer_id": answer.get("offer_id"),
            "reasons": unmet_sentences(answer.get("explanation"), language)
            or [str(r) for r in answer.get("reasons") or []]}


def inbox_model(item: InboxItem) -> dict[str, Any]:
    return {"notification_id": item.notification_id, "offer_id": item.offer_id, "subject": item.subject,
            "body": item.body, "at": item.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
