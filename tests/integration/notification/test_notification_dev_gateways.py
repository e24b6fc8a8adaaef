"""The local-development stand-ins for the providers: what the channel adapters send lands in a mail folder and an
SMS log, a repeated idempotency key is marked as a duplicate, and nothing binds beyond loopback."""

from __future__ import annotations

import email
import email.policy
import json

import aiohttp
import pytest

from services.notification.adapters.dev_gateways import require_loopback, start_sms_sink, start_smtp
from services.notification.adapters.sms_gateway import SmsGateway
from services.notification.adapters.smtp_mail import SmtpMail
from services.notification.domain.attempts import Outcome
from services.notification.domain.contact import Language
from services.notification.ports import Message
from tests.integration.notification.notification_harness import free_port

MESSAGE = Message("o-1", "您可以享受就业救助", "【社会救助】您可以享受就业救助", "正文\nhttp://citizen.test/c/x",
                  Language.ZH_CN)


async def test_sms_and_mail_from_the_adapters_land_in_the_log_and_the_folder(tmp_path):
    smtp_port, sms_url = free_port(), f"http://127.0.0.1:{free_port()}/v1/sms"
    server = await start_smtp("127.0.0.1", smtp_port, tmp_path / "mail")
    sink = await start_sms_sink(sms_url, tmp_path / "sms.jsonl")
    try:
        async with aiohttp.ClientSession() as http:
            sms = SmsGateway(http, sms_url)
            assert (await sms.send("+8613800000000", MESSAGE, "n-1")).outcome is Outcome.ACCEPTED
            assert (await sms.send("+8613800000000", MESSAGE, "n-1")).outcome is Outcome.ACCEPTED
        mail = SmtpMail("127.0.0.1", smtp_port, "assist@localhost")
        assert (await mail.send("someone@mail.test", MESSAGE, "n-2")).outcome is Outcome.ACCEPTED
        await mail.close()
    finally:
        server.close()
        await server.wait_closed()
        await sink.cleanup()
    lines = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["idempotency_key"], x["duplicate"]) for x in lines] == [("n-1", False), ("n-1", True)]
    assert lines[0]["text"] == MESSAGE.short
    (eml,) = (tmp_path / "mail").glob("*.eml")
    received = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert received["Subject"] == MESSAGE.subject and received["Message-ID"] == "<n-2@assist-notification>"
    assert "http://citizen.test/c/x" in received.get_content()


async def test_an_unreachable_gateway_or_server_is_a_transient_failure():
    async with aiohttp.ClientSession() as http:
        result = await SmsGateway(http, f"http://127.0.0.1:{free_port()}/v1/sms").send("+861", MESSAGE, "n-3")
    assert result.outcome is Outcome.TRANSIENT
    mail = SmtpMail("127.0.0.1", free_port(), "assist@localhost")
    assert (await mail.send("someone@mail.test", MESSAGE, "n-4")).outcome is Outcome.TRANSIENT


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.org"])
def test_development_gateways_refuse_to_listen_beyond_loopback(host):
    with pytest.raises(ValueError):
        require_loopback(host)
