"""Redis key names of the read model, under one prefix (the writer and every reader share them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """Redis key names under one prefix."""

    prefix: str

    def customer(self, customer_id: str) -> str:
        """The snapshot key of one customer."""
        return f"{self.prefix}:customer:{customer_id}"

    @property
    def worklist(self) -> str:
        """The whole worklist."""
        return f"{self.prefix}:worklist"

    def by_risk(self, bucket: str) -> str:
        """The worklist of one risk bucket."""
        return f"{self.prefix}:worklist:risk:{bucket}"

    def by_aging(self, bucket: str) -> str:
        """The worklist of one aging bucket."""
        return f"{self.prefix}:worklist:aging:{bucket}"
