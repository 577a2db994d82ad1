"""Prometheus metrics, built from a factory that takes a registry (tests use a fresh one).

Label values are bounded: topics are configured names, outcomes/reasons/actions are enums.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every metric the worker exports."""

    registry: CollectorRegistry
    events: Counter
    dead_letters: Counter
    processing_seconds: Histogram
    late_flags: Counter
    actions: Counter
    segment_changes: Counter
    projection_pending: Gauge
    projection_writes: Counter


def build_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    """Create the metrics in `registry` (a new one by default)."""
    registry = registry if registry is not None else CollectorRegistry()
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
            "Time to process one input event, publish its outputs and store its state",
            buckets=_LATENCY_BUCKETS,
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
        segment_changes=Counter(
            "arpulse_segment_changes_total",
            "Segment changes published, by dimension that changed",
            ["dimension"],
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
        "method",
    }
)


def reason_label(field: str) -> str:
    """Bound the dead-letter reason label to known field names."""
    top = field.split(".", 1)[0]
    return top if top in DEAD_LETTER_REASONS else "other"
