"""Recently stored customer states, kept decoded for the next event of the same customer.

A customer's events come in bursts (an invoice, its due date, its payments), and every batch
would otherwise decode the stored record it wrote moments before: about a tenth of a worker's
CPU on a backlog. An entry is only ever used for the exact bytes it was stored as, so the store
stays the truth: a record written by another worker (after a rebalance), recovered from the
changelog, or changed in any other way is decoded afresh. States are immutable, so sharing one
between the cache and a batch is safe.
"""

from __future__ import annotations

from processor.domain.state import CustomerState


class DecodedStates:
    """A bounded, least-recently-used map from customer key to (stored bytes, decoded state)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[bytes, tuple[bytes, CustomerState]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes, raw: bytes) -> CustomerState | None:
        """The decoded state if `raw` is what was last put for `key`; else None."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        if entry[0] != raw:  # stored since by someone else: the entry is stale
            return None
        self._entries[key] = entry  # most recently used last
        return entry[1]

    def put(self, key: bytes, raw: bytes, state: CustomerState) -> None:
        """Remember `state` as the decoding of `raw`, evicting the least recently used."""
        if self._capacity <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (raw, state)
        while len(self._entries) > self._capacity:
            del self._entries[next(iter(self._entries))]
