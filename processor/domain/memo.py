"""Identity memos: values derived once from an immutable object (a policy, a ledger) and reused.

Policies and ledgers are never mutated, so what is derived from one object stays true for it. A
memo keys on the object's identity and keeps the object itself alive next to the value, so a
recycled id can never return another object's value. It holds a bounded number of entries and
starts over when full: it only saves work, it never changes a result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(Generic[K, V]):
    """`derive(key)` computed at most once per live key object (up to `limit` at a time)."""

    __slots__ = ("_derive", "_entries", "_limit")

    def __init__(self, derive: Callable[[K], V], *, limit: int) -> None:
        self._derive = derive
        self._entries: dict[int, tuple[K, V]] = {}
        self._limit = limit

    def __call__(self, key: K) -> V:
        """The value derived from `key`, derived now if this object has not been seen."""
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            return entry[1]
        value = self._derive(key)
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[id(key)] = (key, value)
        return value
