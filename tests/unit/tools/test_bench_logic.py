"""The bench's logic phase: the worker's pipeline in memory and the pure domain, on the backlog."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from processor.core.policy_file import load_policy
from processor.core.ports import partition_for
from processor.core.settings import Settings
from schemas import topics
from tools.bench import load, logic
from tools.bench.report import ratios, render_table, summarise

POLICY = load_policy(None)


def backlog(customers: int = 60, invoices: int = 2) -> list[load.Outgoing]:
    return load.take(load.portfolio_mix(customers, seed=11), load.backlog_size(customers, invoices))


def test_the_backlog_reaches_the_pipeline_on_home_partitions_with_offsets_per_topic() -> None:
    events = backlog()
    messages = logic.inbound(events, 3)
    assert [m.value for m in messages] == [e.value for e in events]
    seen: Counter[tuple[str, int]] = Counter()
    for message in messages:
        assert message.key is not None
        assert message.partition == partition_for(message.key, 3)
        assert message.offset == seen[(message.topic, message.partition)]
        seen[(message.topic, message.partition)] += 1


def test_worker_settings_apply_to_the_logic_and_other_variables_are_ignored() -> None:
    settings = logic.settings_for(
        5,
        {
            "ARPULSE_STATE_CACHE_CUSTOMERS": "0",
            "ARPULSE_BATCH_MAX_EVENTS": "7",
            "ARPULSE_NOT_A_SETTING": "x",
        },
    )
    assert settings.partitions == 5
    assert settings.state_cache_customers == 0
    assert settings.batch_max_events == 7
    assert logic.settings_for(5, {}).batch_max_events == Settings().batch_max_events


def test_the_pipeline_decides_every_message_as_the_worker_would() -> None:
    events = backlog()
    at = events[-1].at + timedelta(seconds=60)
    settings = logic.settings_for(3, {"ARPULSE_BATCH_MAX_EVENTS": "16"})
    cpu, outbox = logic.time_pipeline(logic.inbound(events, 3), settings, POLICY, at)
    assert cpu > 0
    published = Counter(topic for topic, *_ in outbox.sent)
    invalid = sum(1 for e in events if not e.valid)
    assert invalid > 0
    assert published[topics.DEAD_LETTER] == invalid  # each bad event dead-lettered, once
    assert published[topics.COLLECTION_ACTIONS] > 0
    assert published[topics.LATE_PAYMENT_FLAGS] > 0


def test_the_figures_count_what_went_through_and_divide_by_cpu_time() -> None:
    events = backlog()
    figures = logic.measure(
        events, partitions=2, policy=POLICY, at=events[-1].at + timedelta(seconds=60)
    )
    assert figures.events == len(events)
    assert figures.domain_events == sum(1 for e in events if e.valid)
    assert figures.outputs > figures.events - figures.domain_events
    assert figures.pipeline_events_per_cpu_s == pytest.approx(
        figures.events / figures.pipeline_cpu_s
    )
    assert figures.domain_events_per_cpu_s == pytest.approx(
        figures.domain_events / figures.domain_cpu_s
    )


def test_ceilings_are_the_logic_over_the_raw_pass_and_are_reported() -> None:
    run = {
        "raw_events_per_s": 20_000.0,
        "arpulse_events_per_s": 1_000.0,
        "logic_events_per_cpu_s": 4_000.0,
        "domain_events_per_cpu_s": 8_000.0,
    }
    assert ratios(run) == pytest.approx(
        {"ratio": 0.05, "logic_ceiling_ratio": 0.2, "domain_ceiling_ratio": 0.4}
    )
    assert ratios({"raw_events_per_s": 20_000.0, "arpulse_events_per_s": 1_000.0}) == {
        "ratio": 0.05
    }
    table = render_table(summarise([{**run, **ratios(run)}]))
    assert "ceiling: logic alone / raw" in table
    assert "pure domain alone" in table
