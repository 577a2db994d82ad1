"""Where this worker stands in each input partition, against what the broker holds.

Two positions per topic partition: the last offset delivered into the time-order buffer, and
the last offset fully processed (outputs acknowledged, state stored). Compared with the broker's
high watermark they answer the runtime's three questions: has every message been delivered (the
buffer may release its head), has every message been processed (a wake-up may be decided), and
how much backlog is there (the linger, the lag metric). One arithmetic serves all three.
"""

from __future__ import annotations

from collections.abc import Iterable

import faust
from faust.types import TP

from processor.core.metrics import Metrics
from processor.runtime.faust_adapter import committed_offset, highwater


class Offsets:
    """Delivered and processed offsets per (topic, partition), and the backlog beyond them."""

    def __init__(self, *, app: faust.App, inputs: Iterable[str], rekey_topic: str) -> None:
        self._app = app
        self._inputs = tuple(inputs)
        self._sources = (*self._inputs, rekey_topic)
        self.delivered: dict[tuple[str, int], int] = {}
        self.processed: dict[tuple[str, int], int] = {}

    def beyond(
        self, topic: str, partition: int, last_offsets: dict[tuple[str, int], int]
    ) -> int | None:
        """Messages the broker holds beyond `last_offsets` (or, before any, the committed offset).

        None when the highwater is not known yet (no fetch has reported it).
        """
        tp = TP(topic, partition)
        high = highwater(self._app, tp)
        if high is None:
            return None
        last = last_offsets.get((topic, partition))
        done = last + 1 if last is not None else committed_offset(self._app, tp) or 0
        return max(0, high - done)

    def delivered_all(self, topic: str, partition: int) -> bool | None:
        """Whether every message of the topic partition the broker has was delivered here.

        None: not known yet (no fetch has reported the broker's high watermark).
        """
        remaining = self.beyond(topic, partition, self.delivered)
        return None if remaining is None else remaining == 0

    def caught_up(self, partition: int) -> bool:
        """True when every input message of the partition the broker has was processed."""
        return all(self.beyond(topic, partition, self.processed) == 0 for topic in self._sources)

    def undelivered(self) -> int:
        """Input messages the broker holds beyond what was delivered here (as of the last fetch)."""
        return sum(
            self.beyond(tp.topic, tp.partition, self.delivered) or 0
            for tp in self._app.consumer.assignment()
            if tp.topic in self._inputs
        )

    def refresh_lag(self, metrics: Metrics) -> None:
        """Consumer lag per input topic: highwater minus the next offset to process.

        Counted from what was processed, not what was fetched: messages waiting in Faust's
        stream buffer or the time-order buffer are lag too.
        """
        lag: dict[str, int] = dict.fromkeys(self._inputs, 0)
        for tp in self._app.consumer.assignment():
            if tp.topic not in lag:
                continue
            high = highwater(self._app, tp)
            processed = self.processed.get((tp.topic, tp.partition))
            done = processed + 1 if processed is not None else committed_offset(self._app, tp)
            if high is not None and done is not None:
                lag[tp.topic] += max(0, high - done)
        for topic, value in lag.items():
            metrics.consumer_lag.labels(topic).set(value)
