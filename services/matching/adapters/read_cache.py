"""A bounded in-process cache in front of a faust table that only this worker's agents write.

Why: reading a RocksDB-backed table costs a store lookup and a JSON decode on every event. The agents that write
a key also update the cache, so it never holds a stale value while this worker owns the partition; on a
rebalance it is emptied, because a partition may come back after another worker changed it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ReadCache(Generic[K, V]):
    def __init__(self, capacity: int):
        self._capacity = capacity
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, load: Callable[[K], V]) -> V:
        try:
            self._values.move_to_end(key)
            return self._values[key]
        except KeyError:
            value = load(key)
            self.put(key, value)
            return value

    def put(self, key: K, value: V) -> None:
        self._values[key] = value
        self._values.move_to_end(key)
        if len(self._values) > self._capacity:
            self._values.popitem(last=False)

    def clear(self, *args: object, **kwargs: object) -> None:
        self._values.clear()
