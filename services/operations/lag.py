"""Consumer lag, as operators read it: for each consumer group and partition, how many messages wait between the
group's committed position and the partition's end (pure; the broker is read in kafka_offsets.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Partition = tuple[str, int]
"""A topic and partition number."""


@dataclass(frozen=True)
class GroupPosition:
    """Where one consumer group stands on one partition."""

    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        """Messages written to the partition that the group has not committed yet (never negative: an end read a
        moment before a commit can lie behind it)."""
        return max(self.end - self.committed, 0)


@dataclass(frozen=True)
class Offsets:
    """One reading of the broker: every partition's end and every group's committed positions."""

    ends: Mapping[Partition, int]
    groups: tuple[GroupPosition, ...]


def positions(group: str, committed: Mapping[Partition, int], ends: Mapping[Partition, int]) -> list[GroupPosition]:
    """The group's position on every partition it committed on and whose end is known. A committed offset of -1
    (no position) is left out: such a group has not started reading that partition."""
    return [GroupPosition(group, topic, partition, offset, ends[topic, partition])
            for (topic, partition), offset in sorted(committed.items())
            if offset >= 0 and (topic, partition) in ends]


def watched(groups: Iterable[str], prefixes: tuple[str, ...]) -> list[str]:
    """The consumer groups whose names start with one of `prefixes` (all of them for no prefix), sorted."""
    return sorted(g for g in set(groups) if not prefixes or g.startswith(prefixes))
