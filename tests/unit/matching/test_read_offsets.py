"""faust's read offsets held at a seek's target: the message there, fetched again, is not dropped as read."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.matching.adapters.read_offsets import HeldReadOffsets


def passed(offsets: Any, fetched: list[int], seek_to: int, seek_after: int, hold: bool) -> list[int]:
    """faust's fetch loop (Consumer._drain_messages): a message at or above the read offset goes to the stream
    and becomes the read offset; one below is dropped. The agent seeks back after `seek_after` messages."""
    out: list[int] = []
    for n, offset in enumerate(fetched):
        if n == seek_after:
            if hold:
                offsets.hold("tp", seek_to)
            offsets["tp"] = seek_to  # what Consumer.seek does
        read = offsets["tp"]
        if read is None or offset >= read:
            out.append(offset)
            offsets["tp"] = offset
    return out


# Fetched before the seek: 10..14 (the guard holds them: 5..9 never reached it); the seek lands after the first of
# them, and the rest of that batch is still in the loop; then 5..14 fetched again.
FETCHED = [10, 11, 12, 13, 14, *range(5, 15)]


def test_a_plain_read_offset_drops_the_message_a_seek_went_back_for():
    assert 5 not in passed(defaultdict(lambda: None), FETCHED, 5, 1, hold=False)


def test_a_read_offset_held_at_the_seek_target_lets_the_message_there_through_in_order():
    got = passed(HeldReadOffsets({}), FETCHED, 5, 1, hold=True)
    assert got[got.index(5):] == list(range(5, 15))


def test_a_released_read_offset_rises_again():
    offsets = HeldReadOffsets({"tp": 3})
    offsets.hold("tp", 5)
    offsets["tp"] = 9
    assert offsets["tp"] == 5
    offsets["tp"] = 4
    assert offsets["tp"] == 4
    offsets.release("tp")
    offsets["tp"] = 9
    assert offsets["tp"] == 9 and offsets["other"] is None


def test_a_rebalance_releases_every_hold():
    offsets = HeldReadOffsets({})
    offsets.hold("tp", 5)
    offsets.reset()
    offsets["tp"] = 9
    assert offsets["tp"] == 9
