"""faust's read offsets, held at a seek's target until the message there comes again.

faust's consumer drops a fetched message whose offset is below the partition's read offset (the last it passed
to a stream). A seek sets that read offset to its target, but the fetch loop may be half way through a batch
fetched before the seek: each message left in it raises the read offset again, and the message at the target,
fetched again after the seek, is dropped as already read. The continuity guard (continuity.py) seeks back to an
offset that never reached its agent; holding the read offset at that target keeps the message from being dropped
again, until the agent has it (release). What passes meanwhile is held by the guard and fetched again in order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import faust


class HeldReadOffsets(defaultdict[Any, int | None]):
    """The consumer's read offset per partition; one held at a seek's target does not rise above it."""

    def __init__(self, current: dict[Any, int | None]):
        super().__init__(lambda: None, current)
        self._held: dict[Any, int] = {}

    def hold(self, tp: Any, offset: int) -> None:
        self._held[tp] = offset
        super().__setitem__(tp, offset)

    def release(self, tp: Any) -> None:
        self._held.pop(tp, None)

    def reset(self, *args: object, **kwargs: object) -> None:
        """On a rebalance (a faust signal's receiver): faust sets every read offset from the committed ones next
        (with `update`, past `__setitem__`), so a hold of the generation before means nothing any more."""
        self._held.clear()

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        held = self._held.get(tp)
        if held is not None and offset is not None and offset > held:
            return
        super().__setitem__(tp, offset)


def held_read_offsets(app: faust.App) -> HeldReadOffsets:
    """Put HeldReadOffsets in place of the consumer's read offsets (before its fetch loop starts, which binds
    them) and return it. faust has no public hook for it: a faust upgrade must keep `Consumer._read_offset`."""
    consumer = app.consumer
    offsets = HeldReadOffsets(dict(getattr(consumer, "_read_offset", {})))
    consumer._read_offset = offsets  # type: ignore[attr-defined]
    return offsets
