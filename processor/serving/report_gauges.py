"""The collection figures as Prometheus gauges, refreshed from Redis every few seconds.

Every worker reports the whole portfolio's figures (they are read from the sums in Redis, not
from the partitions it owns), so a dashboard takes any one of them: `max by (currency, segment)`.
A scrape reads the last refresh; it never waits for Redis.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError

from processor.domain.policy import Policy
from processor.serving.keys import Keys
from processor.serving.reports import read_kpis

log = logging.getLogger(__name__)

# (gauge name, help, the figure's key in the report, extra labels)
_DSO = "Days sales outstanding, by method"
_GAUGES: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("arpulse_dso_days", _DSO, "dso_countback", {"method": "countback"}),
    ("arpulse_dso_days", _DSO, "dso_simple", {"method": "simple"}),
    ("arpulse_best_possible_dso_days", "Best possible DSO", "best_possible_dso", {}),
    ("arpulse_add_days", "Average days delinquent (DSO minus best possible DSO)", "add", {}),
    ("arpulse_cei_percent", "Collection effectiveness index, percent", "cei_percent", {}),
    ("arpulse_over_90_share", "Share of receivables over 90 days past due", "over_90_share", {}),
)

GAUGE_NAMES = frozenset(name for name, *_ in _GAUGES)


class ReportGauges(Collector):
    """The last figures read, as gauges labelled by currency and segment ("all": portfolio)."""

    def __init__(self, *, redis: Redis, keys: Keys, policy: Policy, interval: float = 10.0) -> None:
        self._redis = redis
        self._keys = keys
        self._policy = policy
        self._interval = interval
        self._report: dict[str, Any] = {}

    async def refresh(self) -> bool:
        """Read the figures once; False (and the last ones kept) when Redis cannot be read."""
        try:
            self._report = await read_kpis(
                self._redis,
                self._keys,
                policy=self._policy.reports,
                countback_days=self._policy.history.retain_days,
            )
        except (RedisError, OSError) as exc:
            # No figures rather than old ones: a dashboard's max() then takes a worker that can
            # read them.
            self._report = {}
            log.debug("collection figures not refreshed: %s", exc)
            return False
        return True

    async def run(self) -> None:
        """Refresh until cancelled; a failure is logged and the next refresh tried."""
        while True:
            try:
                await self.refresh()
            except Exception:  # a bug must not freeze the gauges for the worker's lifetime
                self._report = {}
                log.exception("collection figures not refreshed")
            await asyncio.sleep(self._interval)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Prometheus collector protocol."""
        scopes = [("all", self._report.get("portfolio", {}))]
        scopes += list(self._report.get("segments", {}).items())
        families: dict[str, GaugeMetricFamily] = {}
        for name, text, key, extra in _GAUGES:
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(
                    name, text, labels=[*extra, "currency", "segment"]
                )
            for segment, rows in scopes:
                for currency, row in sorted(rows.items()):
                    value = row.get(key)
                    if value is not None:
                        family.add_metric([*extra.values(), currency, segment], float(value))
        yield from families.values()
