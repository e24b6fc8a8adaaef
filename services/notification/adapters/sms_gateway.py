"""SMS through an HTTP gateway.

Request: POST <settings.sms_gateway_url> with a JSON body
    {"to": "+8613800000000", "text": "<message>", "idempotency_key": "n-<24 hex>"}
Any 2xx means the gateway accepted the message. The gateway must treat a repeated idempotency_key as the same
message (accept it again, send nothing new): that is what makes an interrupted send safe to repeat. 408, 425, 429
and 5xx are retried; other 4xx are permanent (e.g. a number the gateway cannot reach).
"""

from __future__ import annotations

import aiohttp

from services.notification.domain.attempts import ACCEPTED, Outcome, SendResult
from services.notification.domain.contact import Channel
from services.notification.ports import Message

_RETRIED = frozenset({408, 425, 429})


class SmsGateway:
    channel = Channel.SMS
    idempotent = True

    def __init__(self, session: aiohttp.ClientSession, url: str, timeout_seconds: float = 10.0):
        self._session = session
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(5.0, timeout_seconds))

    async def send(self, address: str, message: Message, idempotency_key: str) -> SendResult:
        body = {"to": address, "text": message.short, "idempotency_key": idempotency_key}
        try:
            async with self._session.post(self._url, json=body, timeout=self._timeout) as response:
                status = response.status
                await response.read()
        except aiohttp.ClientConnectorError:
            return SendResult(Outcome.TRANSIENT, "gateway unreachable")
        except aiohttp.ConnectionTimeoutError:
            return SendResult(Outcome.TRANSIENT, "gateway connection timed out")
        except TimeoutError:
            return SendResult(Outcome.UNKNOWN, "gateway did not answer in time")
        except aiohttp.ClientError as exc:
            return SendResult(Outcome.UNKNOWN, f"gateway connection lost ({type(exc).__name__})")
        if 200 <= status < 300:
            return ACCEPTED
        outcome = Outcome.TRANSIENT if status in _RETRIED or status >= 500 else Outcome.PERMANENT
        return SendResult(outcome, f"gateway HTTP {status}")
