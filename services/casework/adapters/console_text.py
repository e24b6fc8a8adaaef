"""The console's words in Simplified Chinese and English, and how it writes money, times, codes and an
explanation's reasons (the catalogue's labels in plain words; the expressions stay in the technical detail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.core import reasons

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

_TEXT: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "app": ("社会救助个案工作台", "Assistance casework console"),
    "queue": ("待办队列", "Queue"), "overview": ("督导总览", "Supervisor overview"),
    "logout": ("退出", "Log out"), "login": ("登录", "Log in"), "user": ("用户名", "User name"),
    "password": ("密码", "Password"), "login.failed": ("用户名或密码错误", "Wrong user name or password"),
    "login.throttled": ("失败次数过多，请稍后再试", "Too many failed attempts; try again later"),
    "login.expired": ("表单已过期，请重试", "The form expired; please try again"),
    "role.caseworker": ("个案工作者", "Caseworker"), "role.supervisor": ("督导", "Supervisor"),
    "filter": ("筛选", "Filter"), "reset": ("清除", "Clear"), "any": ("全部", "Any"),
    "district": ("区县", "District"), "band": ("优先级", "Priority"), "sla": ("时限", "Deadline state"),
    "policy": ("政策", "Policy"), "due_before": ("截止日期早于", "Due before"), "state": ("状态", "State"),
    "state.queued": ("待认领", "Queued"), "state.claimed": ("已认领", "Claimed"), "state.all": ("全部", "All"),
    "band.urgent": ("紧急", "Urgent"), "band.high": ("高", "High"), "band.normal": ("中", "Normal"),
    "band.low": ("低", "Low"),
    "sla.ok": ("正常", "On time"), "sla.due-soon": ("即将到期", "Due soon"), "sla.breached": ("已超时", "Overdue"),
    "sla.decided": ("已办结", "Decided"), "sla.withdrawn": ("已撤回", "Withdrawn"),
    "status.QUEUED": ("待认领", "Queued"), "status.CLAIMED": ("已认领", "Claimed"),
    "status.APPROVED": ("已批准", "Approved"), "status.REJECTED": ("已驳回", "Rejected"),
    "status.WITHDRAWN": ("已撤回", "Withdrawn"),
    "withdrawn.banner": ("该任务已由比对系统撤回，无需再处理", "Matching withdrew this task: nothing is to be decided"),
    "withdrawn.yours": ("撤回时该任务由您认领", "You had this task claimed when it was withdrawn"),
    "revisions": ("金额调整与撤回", "Revisions"), "revision.from_to": ("调整", "Amount"),
    "revision.changed_facts": ("变化的事实", "What changed"),
    "revision.previous": ("调整前的认定依据", "Explanation before"),
    "revision.current": ("调整后的认定依据", "Explanation now"),
    "review": ("复核内容", "Under review"), "review.amount": ("当前享受金额", "Amount received now"),
    "review.reasons": ("变化情况", "What changed"),
    "applications": ("申请", "Applications"), "apply_for_resident": ("代居民申请", "Apply on the resident's behalf"),
    "programme": ("救助项目", "Programme"), "apply": ("提交申请", "Apply"), "applied_by": ("申请人", "Applied by"),
    "no_catalogue": ("暂时无法获取救助项目目录", "The list of programmes is not available at the moment"),
    "no_applications": ("暂无申请", "No applications"), "answer": ("答复", "Answer"),
    "answer.WAITING": ("已提交，等待答复", "Submitted; waiting for the answer"),
    "answer.OFFERED": ("已直接提供救助", "Offered directly"),
    "answer.VERIFICATION_OPENED": ("已生成核实任务", "A verification task was opened"),
    "answer.ALREADY_PENDING": ("已有待处理事项", "Already pending"),
    "answer.ALREADY_RECEIVING": ("已在享受", "Already receiving"),
    "answer.NOT_ELIGIBLE": ("不符合条件，原因：", "Not eligible, because: "),
    "answer.UNKNOWN_POLICY": ("目录中没有该项目", "Not a programme of the catalogue"),
    "answer.UNKNOWN_PERSON": ("登记中没有该居民", "The resident is not in the registry"),
    "done.applied": ("已代居民提交申请", "Application submitted on the resident's behalf"),
    "error.no_person": ("该任务未指明居民，无法代为申请", "The task names no resident to apply for"),
    "error.unknown_policy": ("目录中没有该项目", "Not a programme of the current catalogue"),
    "error.policy": ("请选择救助项目", "Choose a programme"),
    "error.no_catalogue": ("暂时无法获取救助项目目录，请稍后再试",
                           "No policy catalogue has been read yet; try again in a few minutes"),
    "kind.VERIFY_ELIGIBILITY": ("资格核实", "Verify eligibility"), "kind.VISIT": ("入户走访", "Home visit"),
    "kind.PHONE_CHECK": ("电话核查", "Phone check"), "kind.REVIEW": ("复核", "Review"),
    "kind.DELIVER_IN_PERSON": ("当面送达", "Deliver in person"),
    "task": ("任务", "Task"), "priority": ("优先级", "Priority"), "due": ("截止时间", "Due"),
    "holder": ("认领人", "Claimed by"), "lease_until": ("认领有效至", "Lease until"),
    "assignee": ("指派给", "Reserved for"), "escalated": ("已上报督导", "Escalated to supervisor"),
    "info_requested": ("已要求补充材料", "Information requested"), "reason": ("理由", "Reason"),
    "household": ("家庭", "Household"), "person": ("人员", "Person"), "created": ("创建时间", "Created"),
    "claim": ("认领", "Claim"), "claim_next": ("认领下一件", "Claim next"), "unclaim": ("放弃认领", "Release"),
    "approve": ("批准", "Approve"), "reject": ("驳回", "Reject"),
    "request_information": ("要求补充材料", "Request information"),
    "reassign": ("重新指派", "Reassign"), "caseworker": ("个案工作者", "Caseworker"),
    "reason.required": ("驳回或要求补充材料时必须填写理由", "A reason is required to reject or request information"),
    "offer": ("救助项目", "Offer"), "amount": ("金额", "Amount"), "benefit_period": ("救助期间", "Benefit period"),
    "tier": ("救助类别", "Tier"), "explanation": ("认定依据", "Explanation"), "summary": ("结论", "Summary"),
    "legal_basis": ("法律依据", "Legal basis"), "policy_version": ("政策版本", "Catalogue version"),
    "conditions": ("条件", "Conditions"), "condition": ("条件", "Condition"), "values": ("代入数值", "With values"),
    "outcome": ("结果", "Outcome"), "holds": ("满足", "Holds"), "fails": ("不满足", "Fails"),
    "computation": ("金额计算", "Amount computation"), "facts": ("事实", "Facts"),
    "reasons": ("认定理由", "Reasons"), "reasons.amount": ("金额", "Amount"),
    "technical": ("技术细节（条件表达式与代入数值）", "Technical detail (expressions and values)"),
    "evidence": ("证据事件", "Evidence events"), "audit": ("处理记录", "Audit trail"),
    "action": ("操作", "Action"), "actor": ("操作人", "By"), "at": ("时间", "At"), "none": ("无", "None"),
    "no_tasks": ("队列中没有任务", "No tasks in this queue"), "truncated": (
        "筛选范围过大，结果可能不完整", "The filter looked at its maximum number of tasks; results may be incomplete"),
    "queued": ("待认领", "Queued"), "claimed": ("已认领", "Claimed"), "total": ("合计", "Total"),
    "breaches": ("超时上报任务", "Escalated overdue tasks"),
    "breaches_by_district": ("各区县超时数", "Overdue by district"),
    "supervisor_queue": ("督导队列", "Supervisor queue"), "depth": ("队列深度", "Queue depth"),
    "more": ("下一页", "Next page"), "back": ("返回队列", "Back to the queue"),
    "period.MONTHLY": ("每月", "per month"), "period.ONE_OFF": ("一次性", "one-off"),
    "period.PER_TERM": ("每学期", "per term"), "period.SERVICE": ("服务", "service"),
    "action.RECEIVED": ("收到任务", "Received"), "action.CLAIMED": ("认领", "Claimed"),
    "action.UNCLAIMED": ("放弃认领", "Released"), "action.LEASE_EXPIRED": ("认领超时", "Lease expired"),
    "action.APPROVED": ("批准", "Approved"), "action.REJECTED": ("驳回", "Rejected"),
    "action.INFORMATION_REQUESTED": ("要求补充材料", "Information requested"),
    "action.REASSIGNED": ("重新指派", "Reassigned"), "action.ESCALATED": ("超时上报", "Escalated"),
    "action.REVISED": ("金额已调整", "Amount revised"), "action.WITHDRAWN": ("已撤回", "Withdrawn"),
    "action.REINSTATED": ("撤回后重新提供", "Reinstated"), "action.DUE_MOVED": ("截止时间已调整", "Due date moved"),
    "done.claimed": ("已认领该任务", "You claimed the task"), "done.unclaimed": ("已放弃认领", "You released the task"),
    "done.approved": ("已批准，任务已办结", "Approved; the task is decided"),
    "done.rejected": ("已驳回，任务已办结", "Rejected; the task is decided"),
    "done.information_requested": ("已要求补充材料，任务回到队列",
                                   "Information requested; the task is back in its queue"),
    "done.reassigned": ("已重新指派", "Reassigned"),
    "error.not_found": ("没有该任务", "No such task"), "error.empty": ("没有可认领的任务", "No task to claim"),
    "error.held": ("该任务已被认领", "The task is claimed by someone else"),
    "error.decided": ("该任务已办结", "The task is already decided"),
    "error.withdrawn": ("该任务已被比对系统撤回（家庭已不再符合条件），不能再认领、批准或驳回",
                        "The task was withdrawn by matching (the household no longer qualifies): it can no longer "
                        "be claimed, approved or rejected"),
    "error.assigned": ("该任务已指派给其他个案工作者", "The task is reserved for another caseworker"),
    "error.escalated": ("该任务已上报督导", "The task was escalated to the supervisor"),
    "error.not_holder": ("请先认领该任务", "Claim the task first"),
    "error.reason": ("驳回或要求补充材料时必须填写理由", "A reason is required to reject or request information"),
    "error.out_of_scope": ("该区县不在您的辖区内", "The district is outside your region"),
    "error.no_caseworker": ("没有该个案工作者", "No such caseworker"),
    "error.name_district": ("请指定区县", "Name the district"),
    "error.caseworker_district": ("该个案工作者不负责该区县", "The caseworker does not work in that district"),
    "error.forbidden": ("无权执行此操作", "Not allowed for your role"),
    "error.unavailable": ("队列正在重建，请稍后再试", "The queues are being rebuilt; try again shortly"),
    "error.invalid": ("请求无效", "Invalid request"), "error.filter": ("筛选条件无效", "Invalid filter"),
    "error.action": ("无效的操作", "Invalid action"),
    "error.csrf": ("表单已过期，请重试", "The form expired; try again"),
    "error.body": ("请求无效", "Invalid request"),
    "contact": ("联系信息", "Contact details"), "contact.why": ("查看原因", "Why you need them"),
    "contact.show": ("显示联系信息", "Show the details"),
    "contact.audited": ("每次查看都会记录（查看人、时间、任务、原因、字段），居民可在其页面看到",
                        "Every disclosure is recorded (who, when, which task, why, which fields) and shown to the "
                        "resident on their page"),
    "contact.recorded": ("已记录本次查看", "This disclosure is recorded"),
    "contact.refused": ("不能显示联系信息", "The details cannot be shown"),
    "purpose.VISIT": ("入户走访", "Visit"), "purpose.VERIFY": ("核实情况", "Verify"),
    "purpose.DELIVER_NOTICE": ("送达通知", "Deliver a notice"),
    "field.name": ("姓名", "Name"), "field.address": ("住址", "Address"), "field.phone": ("电话", "Phone"),
    "error.purpose": ("请选择查看原因", "Choose why you need the details"),
    "disclosures": ("联系信息查看情况（近 30 天）", "Contact details shown (last 30 days)"),
    "achieved": ("工作成效（近 30 天，本辖区）", "What the region's work achieved (last 30 days)"),
    "achieved.made": ("发出", "Offered"), "achieved.accepted": ("已接受", "Accepted"),
    "achieved.declined": ("已谢绝", "Declined"), "achieved.approved": ("已批准", "Approved"),
    "achieved.rejected": ("未批准", "Rejected"), "achieved.withdrawn": ("已撤回", "Withdrawn"),
    "achieved.event_to_offer": ("事件到发出（中位）", "Event to offer (median)"),
    "achieved.offer_to_decision": ("发出到决定（中位）", "Offer to decision (median)"),
    "achieved.warnings": ("预警", "Warnings"), "achieved.confirmed": ("走访确认", "confirmed by a visit"),
    "achieved.not_confirmed": ("未确认", "not confirmed"),
    "disclosures.lead": ("查看的家庭中超过一半既非本人认领也非本人办结的任务所涉家庭（且至少 10 户）时标记为“疑似浏览”",
                         "Flagged as browsing when someone opened at least 10 households, more than half of them "
                         "explained by none of the tasks they hold or decided"),
    "staff": ("工作人员", "Staff"), "role": ("角色", "Role"), "disclosures.count": ("查看次数", "Disclosures"),
    "disclosures.households": ("涉及家庭", "Households"),
    "disclosures.explained": ("有任务依据的家庭", "Explained by their tasks"),
    "disclosures.flag": ("提示", "Flag"), "disclosures.browsing": ("疑似浏览", "Browsing"),
    "error.closed": ("任务已办结或撤回，不能查看联系信息", "The task is closed: no details are shown"),
    "error.no_details": ("身份信息库中暂无该家庭的信息", "The vault holds no details for this household yet"),
    "error.audit_unavailable": ("审计记录未确认，未显示任何信息，请稍后重试",
                                "The audit log did not acknowledge the disclosure: nothing was shown; retry shortly"),
}


def language(requested: str | None, cookie: str | None, accept: str | None) -> str:
    """?lang= first, then the remembered choice, then the browser's preference; Chinese by default."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return choice
    if accept and accept.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def text(lang: str, key: str) -> str:
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def money(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def plain_reasons(explanation: Mapping[str, Any] | None, lang: str) -> dict[str, Any]:
    """An explanation said in plain words in the console's language: the programme's name, each condition (with
    whether it holds) and how the amount is reached. `labelled` is False for an explanation written before labels
    existed; the console then opens its technical detail."""
    shown = explanation or {}
    sentences = [{"text": reasons.condition_sentence(c, lang), "holds": bool(c.get("holds"))}
                 for c in shown.get("conditions") or []]
    return {"labelled": any(s["text"] for s in sentences), "name": reasons.policy_name(shown, lang),
            "sentences": [s for s in sentences if s["text"]], "amount": reasons.amount_sentence(shown, lang)}


def unmet_reasons(answer: Mapping[str, Any] | None, lang: str) -> list[str]:
    """Why an application was not eligible, in plain words from its explanation's labels, else as matching wrote
    it ("not eligible, because ...")."""
    shown = answer or {}
    return reasons.condition_sentences(shown.get("explanation") or {}, lang, holding=False) \
        or [str(r) for r in shown.get("reasons") or []]


def when(ms: int | None) -> str:
    if not ms:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M")
