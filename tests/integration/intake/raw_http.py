"""Requests written byte for byte, for what a well-behaved client library refuses to send (undecodable headers
and cookies, odd bytes in a form): callers of a public service send such things."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        """The problem+json body; fails the test when the answer is not one."""
        assert self.headers.get("content-type", "").startswith("application/problem+json"), (self.status,
                                                                                            self.headers, self.body)
        body: dict[str, Any] = json.loads(self.body)
        assert body["status"] == self.status and body["title"], body
        return body


async def raw_request(host: str, port: int, method: str, target: str, headers: list[tuple[str, bytes]],
                      body: bytes = b"", timeout: float = 10.0) -> RawAnswer:
    """Send one HTTP/1.1 request with exactly these header bytes; read the whole answer (Connection: close)."""
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n".encode()
    for name, value in headers:
        head += name.encode() + b": " + value + b"\r\n"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n".encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head + b"\r\n" + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    parsed = {}
    for line in header_block.split(b"\r\n"):
        name, _, value = line.decode("latin-1").partition(":")
        parsed[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split()[1]), parsed, payload)
