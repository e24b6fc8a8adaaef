"""LOCAL DEVELOPMENT ONLY: stand-ins for the e-mail and SMS providers, so the platform runs on a laptop and the
demo can show what citizens would receive. Nothing here is for production; they bind to loopback addresses only.

- an SMTP server (aiosmtpd) on settings.smtp_host:smtp_port (127.0.0.1:8025) that writes every message it
  receives as an .eml file into a folder;
- an HTTP SMS sink on the host, port and path of settings.sms_gateway_url (127.0.0.1:8090/v1/sms) that appends
  every request to a JSONL file, marking a repeated idempotency_key as a duplicate (as a real gateway would drop it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiosmtpd import smtp as aiosmtpd_smtp

LOOPBACK_NAMES = {"localhost"}


def require_loopback(host: str) -> None:
    """Refuse to expose a development stand-in beyond this machine."""
    if host in LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"development gateways bind to loopback addresses only, not {host!r}")


class MailFolder:
    """aiosmtpd handler: each accepted message becomes <folder>/<ns>-<n>.eml (written whole, then renamed)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._numbers = itertools.count()
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}-{next(self._numbers):06d}"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.folder / f"{name}.eml")
        return "250 Message accepted for delivery"


async def start_smtp(host: str, port: int, folder: Path) -> asyncio.Server:
    require_loopback(host)
    handler = MailFolder(folder)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: aiosmtpd_smtp.SMTP(handler, hostname="assist-dev-smtp"), host, port)


SMS_LOG = web.AppKey("sms_log", Path)
SEEN_KEYS = web.AppKey("seen_keys", set)


def sms_sink_app(path: str, log_file: Path) -> web.Application:
    """The SMS sink: POST {"to", "text", "idempotency_key"} -> 202 {"id": key}; a repeated key -> 200 duplicate."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    app = web.Application()
    app[SMS_LOG] = log_file
    app[SEEN_KEYS] = set()
    app.router.add_post(path, _receive_sms)
    return app


async def _receive_sms(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body is not JSON"}, status=400)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k] for k in
                                             ("to", "text", "idempotency_key")):
        return web.json_response({"error": "to, text and idempotency_key are required strings"}, status=400)
    key = body["idempotency_key"]
    duplicate = key in request.app[SEEN_KEYS]
    request.app[SEEN_KEYS].add(key)
    line = {"received_at": dt.datetime.now(dt.UTC).isoformat(), "to": body["to"], "text": body["text"],
            "idempotency_key": key, "duplicate": duplicate}
    with request.app[SMS_LOG].open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return web.json_response({"id": key, "status": "duplicate" if duplicate else "accepted"},
                             status=200 if duplicate else 202)


def sms_address(url: str) -> tuple[str, int, str]:
    """Host, port and path of the gateway URL the platform is configured with."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("the development SMS sink serves plain http on a loopback address")
    return parts.hostname, parts.port or 80, parts.path or "/"


async def start_sms_sink(url: str, log_file: Path) -> web.AppRunner:
    host, port, path = sms_address(url)
    require_loopback(host)
    runner = web.AppRunner(sms_sink_app(path, log_file), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
