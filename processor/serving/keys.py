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

    def share(self, customer_id: str) -> str:
        """One customer's share of the receivables."""
        return f"{self.prefix}:share:{customer_id}"

    @property
    def totals(self) -> str:
        """The set of the sums' scopes (``<segment>|<currency>``)."""
        return f"{self.prefix}:totals"

    @property
    def totals_prefix(self) -> str:
        """What a sum's hash key starts with (then its scope)."""
        return f"{self.prefix}:totals:"

    def total(self, scope: str) -> str:
        """The hash of one scope's sums."""
        return f"{self.totals_prefix}{scope}"

    @property
    def as_of(self) -> str:
        """The latest business day any snapshot was decided for."""
        return f"{self.prefix}:as_of"

    def timeline(self, customer_id: str) -> str:
        """One customer's timeline."""
        return f"{self.prefix}:timeline:{customer_id}"

    @property
    def projected(self) -> str:
        """Hash: partition -> "1" once the read model holds every customer of it.

        The marker goes with the data: a Redis that lost its data has lost this too.
        """
        return f"{self.prefix}:projected"

    @property
    def projecting(self) -> str:
        """Hash: partition -> the token of the writing that will make it whole (see above)."""
        return f"{self.prefix}:projecting"
