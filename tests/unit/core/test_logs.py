"""The platform's log lines: JSON or text, the record's ids and trace, and no person's identity in any line."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from services.core.logs import (
    JsonLines,
    PersonalDataMask,
    configure_logging,
    faust_logging,
    log_context,
    masked_id,
    record_ids,
)
from services.core.settings import Settings, load_settings

IDENTITY = "11010519491231002X"
PHONE = "13912345678"
MAIL = "wang.fang@example.cn"


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger as configure_logging leaves it; restored afterwards."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)


def _settings(**changes: str) -> Settings:
    return replace(load_settings({}), **changes)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_carry_time_level_service_logger_message_and_the_record_ids(root: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("matching", _settings(log_format="json"), stream=out)
    event = str(uuid.uuid4())
    logging.getLogger("services.matching.service").info(
        "%s emitted", "offer", extra=record_ids("offer", {"offer_id": "o-1", "trigger_event_id": event,
                                                          "policy_id": "dibao", "person_id": "p-hidden"}))
    [line] = _lines(out)
    entry = json.loads(line)
    assert entry["time"].endswith("Z") and entry["time"][10] == "T"
    assert {k: entry[k] for k in ("level", "service", "logger", "message", "offer_id", "trace", "policy_id")} == {
        "level": "INFO", "service": "matching", "logger": "services.matching.service", "message": "offer emitted",
        "offer_id": "o-1", "trace": event, "policy_id": "dibao"}
    assert "p-hidden" not in line  # person ids are not among the fields a line takes


def test_a_task_is_traced_to_its_offers_trigger_else_to_its_latest_evidence() -> None:
    offer = {"offer_id": "o-2", "trigger_event_id": "e-trigger"}
    assert record_ids("caseworker_task", {"task_id": "t-1", "kind": "VERIFY_ELIGIBILITY", "offer": offer,
                                          "evidence_event_ids": ["e-old", "e-trigger"]}) == {
        "task_id": "t-1", "offer_id": "o-2", "kind": "VERIFY_ELIGIBILITY", "trace": "e-trigger",
        "evidence_event_ids": ["e-old", "e-trigger"]}
    warning = record_ids("caseworker_task", {"task_id": "t-2", "kind": "MONITORING_WARNING", "offer": None,
                                             "evidence_event_ids": ["e-1", "e-2"]})
    assert warning["trace"] == "e-2"


def test_ids_of_the_context_reach_every_line_inside_it_and_extra_wins(root: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("notification", _settings(log_format="json"), stream=out)
    log = logging.getLogger("services.notification.delivery")
    with log_context(offer_id="o-3", trace="e-3"):
        log.info("inside")
        log.info("own offer", extra={"offer_id": "o-4"})
    log.info("outside")
    inside, own, outside = (json.loads(line) for line in _lines(out))
    assert (inside["offer_id"], inside["trace"]) == ("o-3", "e-3")
    assert (own["offer_id"], own["trace"]) == ("o-4", "e-3")
    assert "trace" not in outside and "offer_id" not in outside


def test_identity_numbers_phones_and_e_mails_are_masked_in_messages_fields_and_tracebacks(
        root: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("intake", _settings(log_format="json"), stream=out)
    log = logging.getLogger("services.intake.service")
    log.warning("resident %s called from %s, wrote from %s", IDENTITY, PHONE, MAIL)
    log.info("event rejected", extra={"event_id": IDENTITY, "trace": IDENTITY})
    try:
        raise ValueError(f"subject {IDENTITY} is not pseudonymised")
    except ValueError:
        log.exception("judging failed")
    text = out.getvalue()
    for personal in (IDENTITY, PHONE, MAIL):
        assert personal not in text
    first, second, third = (json.loads(line) for line in _lines(out))
    assert first["message"] == "resident [identity number] called from [phone], wrote from [e-mail]"
    assert second["event_id"] == second["trace"] == "[identity number]"
    assert "subject [identity number] is not pseudonymised" in third["exception"]


def test_text_lines_append_the_ids_and_are_masked_too(root: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("casework", _settings(), stream=out)
    logging.getLogger("services.casework.service").info(
        "decision APPROVED recorded for %s", PHONE, extra={"task_id": "t-9", "trace": "e-9"})
    [line] = _lines(out)
    assert " INFO services.casework.service decision APPROVED recorded for [phone] [task_id=t-9 trace=e-9]" in line
    assert PHONE not in line


def test_uuid_ids_are_never_defaced_by_the_masks() -> None:
    for _ in range(2000):
        value = str(uuid.uuid4())
        assert masked_id(value) == value
    assert masked_id("13800138000") == "[phone]" and masked_id("+86 139 1234 5678") == "[phone]"
    assert masked_id(f"evt-{MAIL}") == "[e-mail]" and masked_id("110105491231002") == "[identity number]"


def test_the_mask_filter_keeps_a_record_whose_message_needs_no_masking_as_it_is() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "offset %d", (42,), None)
    assert PersonalDataMask().filter(record) and record.getMessage() == "offset 42"


def test_a_wrong_log_format_or_level_stops_the_service_naming_the_setting(root: logging.Logger) -> None:
    with pytest.raises(SystemExit, match="ASSIST_LOG_FORMAT must be one of text, json, not 'xml'"):
        configure_logging("vault", load_settings({"ASSIST_LOG_FORMAT": "xml"}))
    with pytest.raises(SystemExit, match="ASSIST_LOG_LEVEL"):
        configure_logging("vault", load_settings({"ASSIST_LOG_LEVEL": "LOUD"}))


def test_the_level_setting_and_a_commands_own_level_decide_what_is_written(root: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("outcomes", load_settings({"ASSIST_LOG_LEVEL": "warning"}), stream=out)
    logging.getLogger("services.outcomes").info("not written")
    logging.getLogger("services.outcomes").warning("written")
    configure_logging("simulator", _settings(), level=logging.ERROR, stream=out)
    logging.getLogger("services.simulator").warning("not written either")
    assert [line.rsplit(" ", 1)[-1] for line in _lines(out)] == ["written"]


def test_faust_gets_json_lines_and_no_banner_or_its_own_text_with_the_mask(root: logging.Logger) -> None:
    as_json = faust_logging("matching", _settings(log_format="json"))
    assert as_json["quiet"] is True and as_json["loglevel"] == "INFO"
    config = as_json["logging_config"]
    assert config["disable_existing_loggers"] is False
    assert config["formatters"]["json"] == {"()": JsonLines, "service": "matching"}
    assert config["handlers"]["default"]["filters"] == ["personal_data"]
    as_text = faust_logging("matching", _settings())
    assert "quiet" not in as_text and as_text["logging_config"]["merge"] is True
    assert as_text["logging_config"]["handlers"]["default"]["formatter"] == "colored"
    logging.config.dictConfig(config)  # the JSON config is one dictConfig accepts
    handler = root.handlers[-1]
    assert isinstance(handler.formatter, JsonLines) and handler.formatter.service == "matching"


def test_faust_text_lines_format_a_message_with_arguments_after_the_mask() -> None:
    """The matching worker's text lines go through mode's formatter after the mask: a message with arguments
    (every 'offer emitted' line) once raised 'not all arguments converted' and printed a traceback instead."""
    from mode.utils.logging import ExtensionFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(ExtensionFormatter(stream=out, fmt="%(levelname)s %(message)s"))
    handler.addFilter(PersonalDataMask())
    logger = logging.getLogger("tests.logs.faust_text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("%s emitted (%s) for %s", "offer", "NEW", IDENTITY, extra={"offer_id": "o-1"})
    finally:
        logger.removeHandler(handler)
    line = out.getvalue()
    assert line.startswith("WARNING offer emitted (NEW) for ")
    assert IDENTITY not in line and "Traceback" not in line
