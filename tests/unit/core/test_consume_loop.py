"""The consume loop's pure parts: a failing batch is retried, then its records are tried apart so only the records
that fail alone are dead-lettered; dead-letter headers say why and where, with personal data masked."""

from __future__ import annotations

import datetime as dt

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RequestTimedOutError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from services.core.dead_letter import Reason, Source, dead_letter_headers, internal
from services.core.kafka import Batch, batch_of, handled_or_isolated, is_transient
from services.core.personal_data import labelled
from services.core.unavailable import REDIS_UNAVAILABLE


def record(offset: int, partition: int = 0, value: bytes | None = b"ok",
           headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("assist.tasks", partition, offset, 0, 0, None, value, None, 0, 0, headers or [])


def batch(*records: ConsumerRecord[bytes, bytes]) -> Batch:
    return batch_of(list(records))


class Handler:
    """Handles records in memory; raises on a poison value, or for the first `flaky` calls."""

    def __init__(self, poison: bytes = b"poison", flaky: int = 0, error: type[Exception] = KeyError):
        self.poison, self.flaky, self.error = poison, flaky, error
        self.handled: list[tuple[int, int]] = []
        self.calls = 0

    async def __call__(self, b: Batch) -> None:
        self.calls += 1
        if self.calls <= self.flaky:
            raise self.error("flaky")
        for records in b.values():
            for r in records:
                if r.value == self.poison:
                    raise self.error("poison")
                self.handled.append((r.partition, r.offset))


def never_transient(exc: BaseException) -> bool:
    return False


async def test_a_batch_that_succeeds_has_no_poison_and_is_handled_once():
    handler = Handler()
    assert await handled_or_isolated(handler, batch(*(record(i) for i in range(5))), never_transient, 3, 0) == []
    assert handler.handled == [(0, i) for i in range(5)]
    assert handler.calls == 1


async def test_a_batch_failing_once_is_retried_whole_and_nothing_is_dead_lettered():
    handler = Handler(flaky=1)
    assert await handled_or_isolated(handler, batch(record(0), record(1)), never_transient, 3, 0) == []
    assert handler.handled == [(0, 0), (0, 1)]


@pytest.mark.parametrize("size, poisoned", [(1, {0}), (2, {1}), (10, {3, 7}), (37, {0, 18, 36}), (500, {250})])
async def test_only_the_records_that_fail_alone_are_returned_and_every_other_record_is_handled(size, poisoned):
    records = [record(i, partition=i % 3, value=b"poison" if i in poisoned else b"ok") for i in range(size)]
    handler = Handler()
    failing = await handled_or_isolated(handler, batch(*records), never_transient, 3, 0)
    assert sorted(r.offset for r, _ in failing) == sorted(poisoned)
    assert all(isinstance(exc, KeyError) for _, exc in failing)
    good = {(r.partition, r.offset) for r in records if r.offset not in poisoned}
    assert good <= set(handler.handled)
    assert not {(r.partition, r.offset) for r, _ in failing} & set(handler.handled)
    # bounded: whole-batch attempts plus a halving search, never a call per record pair
    assert handler.calls <= 3 + 4 * len(poisoned) * max(1, size.bit_length())


async def test_every_part_tried_apart_holds_its_partitions_records_in_order():
    records = [record(i, partition=i % 2, value=b"poison" if i == 5 else b"ok") for i in range(12)]
    seen: list[Batch] = []
    handler = Handler()

    async def watching(b: Batch) -> None:
        seen.append(b)
        await handler(b)

    await handled_or_isolated(watching, batch(*records), never_transient, 1, 0)
    assert len(seen) > 1
    for part in seen:
        for tp, rs in part.items():
            assert [r.offset for r in rs] == sorted(r.offset for r in rs)
            assert {r.partition for r in rs} == {tp.partition}


async def test_a_transient_error_propagates_at_once_without_trying_records_apart():
    handler = Handler(flaky=5, error=RedisConnectionError)
    with pytest.raises(RedisConnectionError):
        await handled_or_isolated(handler, batch(record(0), record(1)), lambda e: is_transient(e, REDIS_UNAVAILABLE),
                                  3, 0)
    assert handler.calls == 1


async def test_a_record_that_fails_alone_is_returned_with_its_exception_type_as_the_reason():
    handler = Handler(error=ZeroDivisionError)
    [(r, exc)] = await handled_or_isolated(handler, batch(record(7, value=b"poison")), never_transient, 2, 0)
    assert r.offset == 7 and internal(exc) == Reason("internal: ZeroDivisionError", (), "internal")


def test_transient_means_a_dependency_unavailable_not_a_record_that_cannot_be_used():
    assert is_transient(TimeoutError())
    assert is_transient(KafkaConnectionError())
    assert is_transient(RequestTimedOutError())
    assert not is_transient(MessageSizeTooLargeError())
    assert is_transient(RedisConnectionError(), REDIS_UNAVAILABLE)
    assert not is_transient(ResponseError("WRONGTYPE"), REDIS_UNAVAILABLE)
    assert not is_transient(KeyError("x"), REDIS_UNAVAILABLE)


def test_batch_of_groups_records_by_partition_in_order():
    grouped = batch_of([record(1, 0), record(5, 1), record(2, 0)])
    assert {tp: [r.offset for r in rs] for tp, rs in grouped.items()} == {
        TopicPartition("assist.tasks", 0): [1, 2], TopicPartition("assist.tasks", 1): [5]}


@pytest.mark.parametrize("text, kept", [
    (b"subject 11010519800517123X here", b"subject [identity number] here"),
    (b"110105198005171234", b"[identity number]"),
    (b"old 110105800517123", b"old [identity number]"),
    (b"call +86 138 1234 5678 now", b"call [phone] now"),
    (b"13812345678", b"[phone]"),
    (b"+44 20 7946 0958", b"[phone]"),
    (b"mail li.ming+x@mail.example.cn!", b"mail [e-mail]!"),
])
def test_identity_numbers_phones_and_emails_are_masked(text, kept):
    assert labelled(text) == kept


@pytest.mark.parametrize("text", [b"2026-11-20T08:30:00+01:00", b"/departments/health/his", b"job.lost",
                                  b"0d3c1f6e-5a7b-4e0f-9a51-1c2d3e4f5a6b", b"1732089600000", b"\xff\xfe\x00garbage"])
def test_ordinary_header_values_are_kept_as_they_are(text):
    assert labelled(text) == text


def test_dead_letter_headers_say_why_and_where_and_mask_the_originals():
    at = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)
    original = [("ce_id", b"e-1"), ("ce-subject", b"11010519800517123X"), ("x-null", None),
                ("dlq_reason", b"old reason"), ("ce_source", b"\xff not utf-8")]
    headers = dict(dead_letter_headers(original, Source("assist.tasks", 3, 42),
                                       Reason("data.grade: above 4", ("data.grade",)), at))
    assert headers["ce_id"] == b"e-1"
    assert headers["ce-subject"] == b"[identity number]"
    assert headers["x-null"] is None
    assert headers["ce_source"] == b"\xff not utf-8"
    assert headers["dlq_reason"] == b"data.grade: above 4"
    assert headers["dlq_fields"] == b"data.grade"
    assert (headers["dlq_source_topic"], headers["dlq_source_partition"], headers["dlq_source_offset"]) == (
        b"assist.tasks", b"3", b"42")
    assert headers["dlq_at"] == b"2026-11-20T08:30:00+00:00"
    assert "dlq_value_omitted" not in headers
    names = [k for k, _ in dead_letter_headers(original, Source("t", 0, 0), Reason("r"), at, "contact details")]
    assert names.count("dlq_reason") == 1 and "dlq_value_omitted" in names
