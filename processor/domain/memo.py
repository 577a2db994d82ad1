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
    """`derive(key, extra)` per live key object and each `extra` it was asked with.

    For values that depend on a second, shared object (a ledger's views on one customer's
    calendar): `extra` is compared by identity, and a key holds at most `per_key` of them (a
    customer's calendar and the plain one), the oldest dropped first.
    """

    __slots__ = ("_derive", "_entries", "_per_key")

    def __init__(self, derive: Callable[[K, E], V], *, per_key: int = 2) -> None:
        self._derive = derive
        self._per_key = per_key
        self._entries: dict[int, tuple[weakref.ref[K], dict[int, tuple[E, V]]]] = {}

    def __call__(self, key: K, extra: E) -> V:
        """The value derived from `key` and `extra`, derived now if not held for both."""
        ident = id(key)
        entry = self._entries.get(ident)
        if entry is not None and entry[0]() is key:
            held = entry[1].get(id(extra))
            if held is not None and held[0] is extra:
                return held[1]
            values = entry[1]
        else:
            entries = self._entries

            def forget(ref: weakref.ref[K]) -> None:
                current = entries.get(ident)
                if current is not None and current[0] is ref:
                    del entries[ident]

            values = {}
            entries[ident] = (weakref.ref(key, forget), values)
        value = self._derive(key, extra)
        if len(values) >= self._per_key:
            del values[next(iter(values))]
        values[id(extra)] = (extra, value)
        return value

    def __len__(self) -> int:
        """How many live objects have a derived value."""
        return len(self._entries)
