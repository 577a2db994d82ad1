"""Table recovery's end offsets, checked against the records the broker serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from faust.types import TP

from processor.runtime.faust_adapter import served_end_offsets

# Faust hands over its own TP; the probe (aiokafka) is given aiokafka's TopicPartition
TP0, TP1, TP2 = TP("changelog", 0), TP("changelog", 1), TP("changelog", 2)


@dataclass
class Record:
    offset: int


@dataclass
class FakeProbe:
    """Serves, from any position, the records of `log` (partition -> offsets) at or after it."""

    log: dict[TopicPartition, list[int]]
    positions: dict[TopicPartition, int] = field(default_factory=dict)

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions = dict.fromkeys(partitions, 0)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int) -> dict[Any, Any]:
        assert all(isinstance(tp, TopicPartition) for tp in partitions)  # as aiokafka's does
        served = {}
        for tp in partitions:
            records = [Record(o) for o in self.log.get(tp, []) if o >= self.positions[tp]]
            if records:
                served[tp] = records
                self.positions[tp] = records[-1].offset + 1
        return served


async def test_the_end_is_after_the_last_record_of_the_batch_the_broker_reported() -> None:
    # the broker reported the offset after the first record of a batch of three (10, 11, 12)
    probe = FakeProbe({TP0: [10, 11, 12]})
    ends = await served_end_offsets(probe, {TP0: 11})  # type: ignore[arg-type]
    assert ends == {TP0: 13}


async def test_a_correct_end_is_confirmed_and_an_empty_partition_is_not_probed() -> None:
    probe = FakeProbe({TP0: [4], TP1: []})
    ends = await served_end_offsets(probe, {TP0: 5, TP1: 0})  # type: ignore[arg-type]
    assert ends == {TP0: 5, TP1: 0}
    assert set(probe.positions) == {TP0}


async def test_a_partition_that_serves_nothing_keeps_the_reported_end() -> None:
    probe = FakeProbe({TP0: [7, 8], TP2: []})
    ends = await served_end_offsets(probe, {TP0: 8, TP2: 3}, timeout=0.05)  # type: ignore[arg-type]
    assert ends == {TP0: 9, TP2: 3}
