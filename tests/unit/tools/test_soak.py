"""The soak's pure parts: the event mix it produces and the judgements it makes on samples."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from schemas import topics
from schemas.events import DueDatePassed, InvoiceIssued, PaymentReceived
from schemas.validation import Rejected, parse_input
from tools.soak.judge import Sample, judge_dead_letters, judge_lag, judge_memory, slope
from tools.soak.mix import EventMix, Outgoing

START = datetime(2026, 1, 5, tzinfo=UTC)
ON_TOPIC = {
    topics.INVOICE_ISSUED: frozenset({"invoice.issued"}),
    topics.PAYMENT_RECEIVED: frozenset({"payment.received"}),
    topics.DUE_DATE_PASSED: frozenset({"invoice.due_date_passed"}),
    topics.CUSTOMER_PROFILES: frozenset({"customer.profile_updated"}),
}
CUSTOMERS, RATE, SPEED, DAYS = 150, 20.0, 2.0, 400


@pytest.fixture(scope="module")
def events() -> list[Outgoing]:
    """400 business days of a 150-customer population at 20 messages a real second."""
    mix = EventMix(customers=CUSTOMERS, rate=RATE, days_per_second=SPEED, start=START, seed=3)
    end = START + timedelta(days=DAYS)
    return list(itertools.takewhile(lambda e: e.at < end, mix))


def test_the_population_is_fixed_and_every_customer_keeps_getting_invoices(
    events: list[Outgoing],
) -> None:
    population = {f"cust-{n:05d}" for n in range(1, CUSTOMERS + 1)}
    assert {e.key for e in events} == population
    late = [e for e in events if e.at >= START + timedelta(days=DAYS - 120)]
    assert {e.key for e in late if e.kind == "invoice.issued"} == population
    assert all(a.at <= b.at for a, b in itertools.pairwise(events)), "not in occurred_at order"


def test_valid_events_parse_with_the_contract_and_invalid_ones_are_refused(
    events: list[Outgoing],
) -> None:
    for event in events:
        parsed = parse_input(event.value, expected_types=ON_TOPIC[event.topic])
        assert isinstance(parsed, Rejected) is not event.valid, (event.kind, event.value)
        if event.valid:
            assert not isinstance(parsed, Rejected)
            assert parsed.customer_id == event.key
            assert parsed.occurred_at == event.at


def test_the_mix_is_realistic_and_about_one_percent_is_invalid(events: list[Outgoing]) -> None:
    kinds = Counter(e.kind for e in events)
    invalid = sum(n for kind, n in kinds.items() if kind.startswith("invalid:"))
    assert 0.005 < invalid / len(events) < 0.02
    assert len([k for k in kinds if k.startswith("invalid:")]) >= 5
    assert kinds["payment.received"] > kinds["invoice.due_date_passed"] > 0
    assert 0 < kinds["customer.profile_updated"] <= CUSTOMERS  # a zone, before the first invoice
    issued = [parse_input(e.value) for e in events if e.kind == "invoice.issued"]
    assert len({i.currency for i in issued if not isinstance(i, Rejected)}) >= 4
    amounts = [i.amount for i in issued if not isinstance(i, Rejected)]
    assert all(a > 0 and a == a.quantize(Decimal("0.01")) for a in amounts)


def test_most_invoices_are_paid_on_time_and_some_late_partly_or_never(
    events: list[Outgoing],
) -> None:
    parsed = [parse_input(e.value) for e in events if e.valid]
    issued = {
        p.invoice_id: p.due_date
        for p in parsed
        if isinstance(p, InvoiceIssued) and p.issued_on < (START + timedelta(days=200)).date()
    }
    paid: dict[str, list[PaymentReceived]] = {}
    for p in parsed:
        if isinstance(p, PaymentReceived) and p.invoice_id in issued:
            paid.setdefault(p.invoice_id, []).append(p)
    noticed = {p.invoice_id for p in parsed if isinstance(p, DueDatePassed)}
    on_time = [i for i, ps in paid.items() if all(p.received_on <= issued[i] for p in ps)]
    late = [i for i, ps in paid.items() if len(ps) == 1 and ps[0].received_on > issued[i]]
    partly = [i for i, ps in paid.items() if len(ps) == 2]
    never = [i for i in issued if i not in paid]
    assert len(on_time) > 0.6 * len(issued)
    assert late and partly and never
    assert set(never) & noticed and set(late) & noticed


def test_once_payments_have_caught_up_the_mix_runs_at_the_target_rate(
    events: list[Outgoing],
) -> None:
    steady = [
        e for e in events if START + timedelta(days=150) <= e.at < START + timedelta(days=350)
    ]
    per_real_second = len(steady) / (200 / SPEED)
    assert RATE * 0.85 < per_real_second < RATE * 1.15


def sample(t: float, rss: float, *, produced: int = 0, processed: int = 0) -> Sample:
    return Sample(
        t=t,
        phase="load",
        business_time="2026-01-05T00:00:00+00:00",
        produced=produced,
        invalid_produced=0,
        processed=processed,
        lag=0,
        dead_letters=0,
        rss_mb=rss,
        cpu_percent=50.0,
    )


def run(rss_at: Callable[[float], float], minutes: int = 30, every: float = 5.0) -> list[Sample]:
    """Load samples every `every` seconds whose RSS follows `rss_at(minute)`."""
    steps = int(minutes * 60 / every) + 1
    return [sample(n * every, rss_at(n * every / 60)) for n in range(steps)]


def test_slope_is_the_least_squares_slope() -> None:
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(1, 4)]) == 0.0


def test_memory_that_rises_then_flattens_levels_off() -> None:
    verdict = judge_memory(run(lambda m: 100 + 60 * (1 - 0.5 ** (m / 2))))
    assert verdict.ok, verdict.message


def test_memory_that_grows_steadily_does_not_level_off() -> None:
    verdict = judge_memory(run(lambda m: 100 + 3.0 * m))
    assert not verdict.ok
    assert "does not level off" in verdict.message


def test_a_steep_start_does_not_excuse_a_steady_leak_later() -> None:
    verdict = judge_memory(run(lambda m: 100 + 3.0 * m + (60 if m > 3 else 20 * m)))
    assert not verdict.ok, verdict.message


def test_flat_memory_with_jitter_levels_off() -> None:
    verdict = judge_memory(run(lambda m: 150 + (2 if int(m * 12) % 2 else -2)))
    assert verdict.ok, verdict.message


def test_too_short_a_run_is_not_judged_as_levelling_off() -> None:
    assert not judge_memory(run(lambda m: 100.0, minutes=0)).ok


def test_a_growing_backlog_fails_and_a_steady_one_passes() -> None:
    rate = 100.0
    falling_behind = [
        sample(t, 100, produced=int(rate * t), processed=int(0.8 * rate * t))
        for t in range(0, 600, 5)
    ]
    assert not judge_lag(falling_behind, rate).ok
    keeping_up = [
        sample(t, 100, produced=int(rate * t), processed=max(0, int(rate * t) - 150))
        for t in range(0, 600, 5)
    ]
    assert judge_lag(keeping_up, rate).ok


def test_every_invalid_message_must_reach_the_dead_letters() -> None:
    assert judge_dead_letters(12, 12).ok
    assert not judge_dead_letters(12, 11).ok
