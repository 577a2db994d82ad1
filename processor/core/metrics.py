"""Prometheus metrics, built from a factory that takes a registry (tests use a fresh one).

Label values are bounded: topics are configured names; outcomes, reasons, actions, channels and
segment dimensions are enumerations.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from processor.core.portfolio import Portfolio
from processor.domain.state import CLASS_DIMENSIONS

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TRANSITION_DIMENSIONS = CLASS_DIMENSIONS  # transitions counted per class dimension


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every metric the worker exports."""

    registry: CollectorRegistry
    events: Counter
    dead_letters: Counter
    processing_seconds: Histogram
    batch_events: Histogram
    end_to_end_seconds: Histogram
    last_event: Gauge
    processing_errors: Counter
    late_flags: Counter
    actions: Counter
    fee_assessments: Counter
    segment_transitions: Counter
    projection_pending: Gauge
    projection_writes: Counter
    redis_up: Gauge
    broker_up: Gauge
    consumer_lag: Gauge
    scheduled: Gauge
    wakeups: Counter
    http_refused: Counter
    read_model_heals: Counter
    portfolio: Portfolio


def build_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    """Create the metrics in `registry` (a new one by default)."""
    registry = registry if registry is not None else CollectorRegistry()
    portfolio = Portfolio()
    registry.register(portfolio)
    return Metrics(
        registry=registry,
        events=Counter(
            "arpulse_events_consumed_total",
            "Input events consumed, by topic and outcome "
            "(applied, duplicate, rekeyed, dead_lettered)",
            ["topic", "outcome"],
            registry=registry,
        ),
        dead_letters=Counter(
            "arpulse_dead_letters_total",
            "Inputs sent to the dead-letter topic, by the field that was wrong",
            ["reason"],
            registry=registry,
        ),
        processing_seconds=Histogram(
            "arpulse_event_processing_seconds",
            "Time to process one input event, publish its outputs and store its state"
            " (its batch's time over its size)",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        batch_events=Histogram(
            "arpulse_batch_events",
            "Messages decided together, their outputs published and acknowledged once",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=registry,
        ),
        end_to_end_seconds=Histogram(
            "arpulse_end_to_end_latency_seconds",
            "From an input's produce time to the broker acknowledging its output, by output",
            ["output"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        last_event=Gauge(
            "arpulse_last_event_timestamp_seconds",
            "Unix time at which the last input event was consumed",
            registry=registry,
        ),
        processing_errors=Counter(
            "arpulse_processing_errors_total",
            "Failures while processing an event, by kind (broker: retried; internal: "
            "dead-lettered)",
            ["kind"],
            registry=registry,
        ),
        late_flags=Counter(
            "arpulse_late_flags_total",
            "Late-payment flags published, by how lateness was detected",
            ["detected_by"],
            registry=registry,
        ),
        actions=Counter(
            "arpulse_collection_actions_total",
            "Collection actions requested, by action and channel",
            ["action", "channel"],
            registry=registry,
        ),
        fee_assessments=Counter(
            "arpulse_late_fee_assessments_total",
            "late_fee.assessed published, by whether final (the invoice closed) or to date",
            ["final"],
            registry=registry,
        ),
        segment_transitions=Counter(
            "arpulse_segment_transitions_total",
            "Customers moving between segments, by dimension and from/to value "
            "(from is 'none' for a first assessment)",
            ["dimension", "from_value", "to_value"],
            registry=registry,
        ),
        projection_pending=Gauge(
            "arpulse_projection_pending_snapshots",
            "Customer snapshots not yet written to Redis (projection lag)",
            registry=registry,
        ),
        projection_writes=Counter(
            "arpulse_projection_writes_total",
            "Snapshot batches written to Redis, by result",
            ["result"],
            registry=registry,
        ),
        redis_up=Gauge(
            "arpulse_redis_up", "1 while the last Redis write succeeded", registry=registry
        ),
        broker_up=Gauge(
            "arpulse_broker_up",
            "1 while the Kafka broker answers metadata requests",
            registry=registry,
        ),
        consumer_lag=Gauge(
            "arpulse_consumer_lag_messages",
            "Messages on owned input partitions not yet processed, by topic",
            ["topic"],
            registry=registry,
        ),
        scheduled=Gauge(
            "arpulse_scheduled_wakeups",
            "Customers on owned partitions with a wake-up scheduled (ladder step, boundary)",
            registry=registry,
        ),
        wakeups=Counter(
            "arpulse_wakeups_total",
            "Wake-ups processed, by outcome (applied: decided something; stale: nothing due)",
            ["outcome"],
            registry=registry,
        ),
        http_refused=Counter(
            "arpulse_http_unauthorized_total",
            "HTTP requests refused with 401 (no token, or not one of the configured ones), by"
            " scope (data: the read model; ops: health and metrics)",
            ["scope"],
            registry=registry,
        ),
        read_model_heals=Counter(
            "arpulse_read_model_partitions_rebuilt_total",
            "Partitions whose customers were written to Redis again because it had lost them"
            " (restarted without persistence, flushed, or new)",
            registry=registry,
        ),
        portfolio=portfolio,
    )


DEAD_LETTER_REASONS = frozenset(
    {
        "payload",
        "event_type",
        "event_id",
        "schema_version",
        "occurred_at",
        "customer_id",
        "invoice_id",
        "payment_id",
        "amount",
        "currency",
        "issued_on",
        "due_date",
        "received_on",
        "customer_name",
        "terms",
        "customer_timezone",
        "method",
        "internal",
    }
)


def reason_label(field: str) -> str:
    """Bound the dead-letter reason label to known field names."""
    top = field.split(".", 1)[0]
    return top if top in DEAD_LETTER_REASONS else "other"
