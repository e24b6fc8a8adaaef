"""One log format for every service, and the ids that follow an event through them.

Every entry point calls `configure_logging(service)` once. ASSIST_LOG_FORMAT chooses the lines (read through the
settings loader): `text` (the default) for a person at a terminal, `json` for a log pipeline, one object a line:

    {"time": "2026-12-01T15:02:11.204Z", "level": "INFO", "service": "matching", "logger": "...",
     "message": "offer emitted", "offer_id": "...", "trace": "<CloudEvents id of the event behind it>"}

The trace is the CloudEvents id of the department's event a record comes from, carried by the records themselves
(offer.trigger_event_id, a task's offer or evidence_event_ids), so `grep <event id>` over every service's JSON lines
follows one event from intake to the citizen's message and the caseworker's decision. A line gets its ids from
`extra=` (`record_ids(...)` builds them from a record) or from `log_context(...)` around the work on one record.

No person's identity in a log line: only the fields named in FIELDS leave a record's `extra`, and the message,
tracebacks and those fields pass the masks of services/core/personal_data.py (identity numbers, phone numbers,
e-mail addresses) as a last line of defence. Names and addresses have no shape to mask: they are never logged.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from services.core.personal_data import identity_number_spans, labelled
from services.core.settings import Settings, load_settings

FORMATS = ("text", "json")
IDS = ("event_id", "offer_id", "task_id", "notification_id", "decision_id", "trace")
"""The record ids a line may carry; `trace` is the CloudEvents id of the originating event."""
FIELDS = (*IDS, "evidence_event_ids", "department", "event_type", "channel", "status", "action", "kind",
          "policy_id")
"""Everything a line takes from `extra=` or the context; any other extra attribute is left out."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("assist_log_ids", default=None)


class LoggingRefused(ValueError):
    """ASSIST_LOG_FORMAT or ASSIST_LOG_LEVEL names something there is not."""


@contextlib.contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Every line logged inside the block (in this task and the tasks it starts) carries `ids` (None: left out)."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def record_ids(record_name: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """The ids of one platform record (offer, caseworker_task, decision, notification_status) for `extra=`: its
    own id and the trace of the event behind it where the record carries it."""
    ids: dict[str, Any] = {}
    if record_name == "offer":
        ids = {"offer_id": value.get("offer_id"), "trace": value.get("trigger_event_id"),
               "policy_id": value.get("policy_id")}
    elif record_name == "caseworker_task":
        offer = value.get("offer") or {}
        evidence = [str(e) for e in value.get("evidence_event_ids") or ()]
        ids = {"task_id": value.get("task_id"), "offer_id": offer.get("offer_id"), "kind": value.get("kind"),
               "trace": offer.get("trigger_event_id") or (evidence[-1] if evidence else None),
               "evidence_event_ids": evidence or None}
    elif record_name == "decision":
        ids = {"decision_id": value.get("decision_id"), "task_id": value.get("task_id"),
               "offer_id": value.get("offer_id"), "action": value.get("action")}
    elif record_name == "notification_status":
        ids = {"notification_id": value.get("notification_id"), "offer_id": value.get("offer_id"),
               "channel": value.get("channel"), "status": value.get("status")}
    return {k: v for k, v in ids.items() if v is not None}


def masked_text(text: str) -> str:
    """`text` with identity numbers, phone numbers and e-mail addresses replaced by what they are."""
    raw = text.encode("utf-8", "surrogateescape")
    masked = labelled(raw)
    return text if masked == raw else masked.decode("utf-8", "surrogateescape")


def masked_id(value: str) -> str:
    """An id as it is, unless it holds an identity number (valid check character), an e-mail address or is a
    phone number as a whole: then its label. Ids are matched narrowly so that a UUID is never defaced."""
    raw = value.encode("utf-8", "surrogateescape")
    if identity_number_spans(raw):
        return "[identity number]"
    masked = labelled(raw)  # any other identity shape or a phone only as the whole id, an e-mail address anywhere
    if masked in (b"[identity number]", b"[phone]"):
        return masked.decode()
    return "[e-mail]" if b"[e-mail]" in masked else value


class PersonalDataMask(logging.Filter):
    """Masks the message and the traceback of every record a handler writes (they are formatted here, once)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = masked_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()  # not None: mode's formatter wraps None as one argument
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = masked_text(record.exc_text)
        if record.stack_info:
            record.stack_info = masked_text(record.stack_info)
        return True


def line_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The FIELDS of a record: the context's, then its own `extra=` (which win), masked."""
    found: dict[str, Any] = dict(_context.get() or {})
    found.update({k: v for k, v in vars(record).items() if k in FIELDS and v is not None})
    return {k: _masked_field(found[k]) for k in FIELDS if k in found}


def _masked_field(value: Any) -> Any:
    if isinstance(value, str):
        return masked_id(value)
    if isinstance(value, (list, tuple)):
        return [_masked_field(v) for v in value]
    if isinstance(value, (int, float, bool)):
        return value
    return masked_id(str(value))


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, service, logger, message, the record's ids."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname, "service": self.service, "logger": record.name,
            "message": masked_text(record.getMessage()),
        }
        entry.update(line_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = masked_text(record.exc_text)
        if record.stack_info:
            entry["stack"] = masked_text(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextLines(logging.Formatter):
    """The platform's text lines, the record's ids appended as name=value."""

    def __init__(self, fmt: str = TEXT_FORMAT):
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = line_fields(record)
        if not fields:
            return text
        head, newline, rest = text.partition("\n")
        ids = " ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in fields.items())
        return f"{head} [{ids}]{newline}{rest}"


def chosen_format(settings: Settings) -> str:
    """The format ASSIST_LOG_FORMAT names, checked."""
    name = settings.log_format.strip().lower()
    if name not in FORMATS:
        raise LoggingRefused(f"ASSIST_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {settings.log_format!r}")
    return name


def chosen_level(settings: Settings) -> int:
    """The level ASSIST_LOG_LEVEL names, checked (DEBUG, INFO, WARNING, ERROR)."""
    level = logging.getLevelName(settings.log_level.strip().upper())
    if not isinstance(level, int):
        raise LoggingRefused(f"ASSIST_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {settings.log_level!r}")
    return level


def log_handler(service: str, settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `service`'s lines in the configured format, masked."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines(service) if chosen_format(settings) == "json" else TextLines())
    handler.addFilter(PersonalDataMask())
    return handler


def json_handler(service: str, settings: Settings) -> logging.Handler | None:
    """The JSON lines handler when ASSIST_LOG_FORMAT is json, else None (for code that brings its own text)."""
    return log_handler(service, settings) if chosen_format(settings) == "json" else None


def configure_logging(service: str, settings: Settings | None = None, level: int | None = None,
                      stream: TextIO | None = None) -> None:
    """Route every logger of the process to one handler in the configured format (replacing earlier handlers
    of the root logger). `level` overrides ASSIST_LOG_LEVEL (a command that should stay quiet).
    Raises SystemExit naming the setting when ASSIST_LOG_FORMAT or ASSIST_LOG_LEVEL is wrong."""
    settings = settings or load_settings()
    try:
        handler = log_handler(service, settings, stream)
        root_level = chosen_level(settings) if level is None else level
    except LoggingRefused as refused:
        raise SystemExit(f"{service}: {refused}") from None
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(root_level)


def faust_logging(service: str, settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for faust.Worker: faust configures logging itself when its worker starts. Text keeps
    faust's own lines with the mask added; json gives the platform's lines and silences the banner, so that every
    line of the worker's output is one JSON object."""
    settings = settings or load_settings()
    try:
        json_lines = chosen_format(settings) == "json"
        level = logging.getLevelName(chosen_level(settings))
    except LoggingRefused as refused:
        raise SystemExit(f"{service}: {refused}") from None
    filters = {"personal_data": {"()": PersonalDataMask}}
    if not json_lines:
        return {"loglevel": level, "logging_config": {
            "merge": True, "filters": filters,
            "handlers": {"default": {"level": level, "class": "colorlog.StreamHandler", "formatter": "colored",
                                     "filters": ["personal_data"]}}}}
    return {"loglevel": level, "quiet": True, "logging_config": {
        "version": 1, "disable_existing_loggers": False, "filters": filters,
        "formatters": {"json": {"()": JsonLines, "service": service}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["personal_data"],
                                 "stream": "ext://sys.stderr", "level": level}},
        "root": {"level": level, "handlers": ["default"]}}}
