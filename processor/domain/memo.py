"""Identity memos: values derived once from an immutable object (a policy, a ledger) and reused.

Policies and ledgers are never mutated, so what is derived from one object stays true for it. A
memo keys on the object's identity and holds it only weakly: the value lives exactly as long as
the object (a caller that keeps a state keeps its ledger's derived facts; one that drops it frees
both), and an entry whose object is gone is removed before its id can be reused. The value must
not refer back to its object. A memo only saves work, it never changes a result.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(Generic[K, V]):
    """`derive(key)` computed at most once per live key object."""

    __slots__ = ("_derive", "_entries")

    def __init__(self, derive: Callable[[K], V]) -> None:
        self._derive = derive
        self._entries: dict[int, tuple[weakref.ref[K], V]] = {}

    def __call__(self, key: K) -> V:
        """The value derived from `key`, derived now if this object has not been seen."""
        entry = self._entries.get(id(key))
        if entry is not None and entry[0]() is key:
            return entry[1]
        value = self._derive(key)
        ident = id(key)
        entries = self._entries

        def forget(ref: weakref.ref[K]) -> None:
            current = entries.get(ident)
            if current is not None and current[0] is ref:
                del entries[ident]

        entries[ident] = (weakref.ref(key, forget), value)
        return value

    def __len__(self) -> int:
        """How many live objects have a derived value."""
        return len(self._entries)


E = TypeVar("E")


class PairMemo(Generic[K, E, V]):
    """`derive(key, extra)` per live key object, for the last `extra` it was asked with.

    For values that depend on a second, shared object (a ledger's views on one customer's
    calendar): asking with another `extra` (the same object, by identity) derives again.
    """

    __slots__ = ("_derive", "_entries")

    def __init__(self, derive: Callable[[K, E], V]) -> None:
        self._derive = derive
        self._entries: dict[int, tuple[weakref.ref[K], E, V]] = {}

    def __call__(self, key: K, extra: E) -> V:
        """The value derived from `key` and `extra`, derived now if not held for both."""
        entry = self._entries.get(id(key))
        if entry is not None and entry[0]() is key and entry[1] is extra:
            return entry[2]
        value = self._derive(key, extra)
        ident = id(key)
        entries = self._entries
        if entry is not None and entry[0]() is key:
            entries[ident] = (entry[0], extra, value)
            return value

        def forget(ref: weakref.ref[K]) -> None:
            current = entries.get(ident)
            if current is not None and current[0] is ref:
                del entries[ident]

        entries[ident] = (weakref.ref(key, forget), extra, value)
        return value

    def __len__(self) -> int:
        """How many live objects have a derived value."""
        return len(self._entries)
