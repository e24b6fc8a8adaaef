"""E-mail over SMTP (aiosmtplib), with a few reused connections.

SMTP has no idempotency key, so this channel says it is not idempotent: an attempt interrupted after the message
was handed over (during DATA) is reported as of unknown outcome and never repeated. Failures before DATA, and
every answer the server gives (4xx retried, 5xx permanent), are definite. The Message-ID is derived from the
notification id, so mail clients that collapse identical Message-IDs hide a duplicate should one ever occur.
"""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
from email.message import EmailMessage

import aiosmtplib

from services.notification.domain.attempts import ACCEPTED, Outcome, SendResult
from services.notification.domain.contact import Channel
from services.notification.ports import Message

LOCAL_HOSTNAME = "assist-notification"
_LOST = "connection lost"


class SmtpMail:
    channel = Channel.EMAIL
    idempotent = False

    def __init__(self, host: str, port: int, sender: str, connections: int = 4, timeout_seconds: float = 20.0):
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_seconds
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._slots = asyncio.Semaphore(connections)

    async def send(self, address: str, message: Message, idempotency_key: str) -> SendResult:
        payload = compose_mail(self._sender, address, message, idempotency_key)
        async with self._slots:
            reused = not self._idle.empty()
            connection = self._idle.get_nowait() if reused else None
            result = await self._transaction(connection, address, payload)
            if result.detail == _LOST and reused:  # an idle connection the server had closed meanwhile
                result = await self._transaction(None, address, payload)
            return result

    async def _transaction(self, connection: aiosmtplib.SMTP | None, address: str, payload: bytes) -> SendResult:
        handed_over = False
        try:
            if connection is None or not connection.is_connected:
                connection = aiosmtplib.SMTP(hostname=self._host, port=self._port, timeout=self._timeout,
                                             local_hostname=LOCAL_HOSTNAME)
                await connection.connect()
            await connection.mail(self._sender)
            await connection.rcpt(address)
            handed_over = True
            await connection.data(payload)
        except aiosmtplib.SMTPResponseException as exc:
            await _reset(connection)
            self._keep(connection)
            return SendResult(Outcome.PERMANENT if exc.code >= 500 else Outcome.TRANSIENT, f"SMTP {exc.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            _close(connection)
            if handed_over:
                return SendResult(Outcome.UNKNOWN, f"interrupted during DATA ({type(exc).__name__})")
            lost = isinstance(exc, aiosmtplib.SMTPServerDisconnected)
            return SendResult(Outcome.TRANSIENT, _LOST if lost else type(exc).__name__)
        except BaseException:  # cancelled (the caller's time limit): the connection is in an unknown state
            _close(connection)
            raise
        self._keep(connection)
        return ACCEPTED

    def _keep(self, connection: aiosmtplib.SMTP | None) -> None:
        if connection is not None and connection.is_connected:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        while not self._idle.empty():
            connection = self._idle.get_nowait()
            try:
                await connection.quit()
            except (aiosmtplib.SMTPException, OSError):
                connection.close()


async def _reset(connection: aiosmtplib.SMTP | None) -> None:
    if connection is not None and connection.is_connected:
        try:
            await connection.rset()
        except (aiosmtplib.SMTPException, OSError):
            connection.close()


def _close(connection: aiosmtplib.SMTP | None) -> None:
    if connection is not None:
        connection.close()



def compose_mail(sender: str, address: str, message: Message, key: str) -> bytes:
    """The e-mail of a message: plain text UTF-8, Message-ID from the notification id."""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = sender
    mail["To"] = address
    mail["Subject"] = message.subject
    mail["Date"] = email.utils.formatdate(usegmt=True)
    mail["Message-ID"] = f"<{key}@{LOCAL_HOSTNAME}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body, charset="utf-8")
    mail["Content-Language"] = message.language.value.replace("_", "-")  # after set_content, which clears Content-*
    return mail.as_bytes()
