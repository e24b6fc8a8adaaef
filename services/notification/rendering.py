"""Messages from Jinja2 templates (services/notification/templates/messages): one file per policy and language,
`<policy id>.<language>.j2`, else `default.<language>.j2`; a notice of a revision or withdrawal of an offer already told
is `revised.<language>.j2` or `withdrawn.<language>.j2`. A template renders a 'Subject:' line, an 'SMS:' line,
then the body; specific templates extend the default one and override its blocks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from services.notification.domain.contact import Language
from services.notification.domain.revisions import Notice
from services.notification.domain.wording import message_facts
from services.notification.ports import Message

TEMPLATES = Path(__file__).resolve().parent / "templates"
_POLICY_ID = re.compile(r"^[a-z0-9_]+$")


class TemplateError(Exception):
    """A template did not render the 'Subject:' and 'SMS:' lines it must."""


class MessageTemplates:
    def __init__(self, folder: Path = TEMPLATES / "messages"):
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=False,
                                       undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                       keep_trailing_newline=False)

    def render(self, offer: Mapping[str, Any], language: Language, link: str, link_expires: dt.datetime,
               approved: bool, zone: dt.tzinfo, notice: Notice = Notice.OFFER) -> Message:
        policy_id = str(offer["policy_id"])
        names = [f"{policy_id}.{language.value}.j2"] if _POLICY_ID.match(policy_id) else []
        if notice is not Notice.OFFER:
            names = [f"{notice.value}.{language.value}.j2"]
        template = self._env.select_template([*names, f"default.{language.value}.j2"])
        text = template.render(message_facts(offer, language, link, link_expires, approved, zone))
        subject, short, body = _sections(text)
        return Message(str(offer["offer_id"]), subject, short, body, language)


def _sections(text: str) -> tuple[str, str, str]:
    lines = text.strip().splitlines()
    sms_at = next((i for i, line in enumerate(lines[:3]) if line.startswith("SMS:")), None)
    if not lines or not lines[0].startswith("Subject:") or sms_at is None:
        raise TemplateError("a message template renders a 'Subject:' line, then an 'SMS:' line")
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines[sms_at + 1:]).strip())
    return lines[0].removeprefix("Subject:").strip(), lines[sms_at].removeprefix("SMS:").strip(), body
