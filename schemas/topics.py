"""Default topic names of the wire contract (each one is configurable in the worker's settings)."""

from typing import Final

INVOICE_ISSUED: Final = "ar.invoice-issued"
PAYMENT_RECEIVED: Final = "ar.payment-received"
DUE_DATE_PASSED: Final = "ar.due-date-passed"
INVOICE_ADJUSTMENTS: Final = "ar.invoice-adjustments"
COLLECTION_UPDATES: Final = "ar.collection-updates"
# Compacted, keyed by customer: only a customer's latest profile matters.
CUSTOMER_PROFILES: Final = "ar.customer-profiles"

LATE_PAYMENT_FLAGS: Final = "ar.late-payment-flags"
CUSTOMER_SEGMENTS: Final = "ar.customer-segments"
COLLECTION_ACTIONS: Final = "ar.collection-actions"
DEAD_LETTER: Final = "ar.dead-letter"

INPUT_TOPICS: Final = (
    INVOICE_ISSUED,
    PAYMENT_RECEIVED,
    DUE_DATE_PASSED,
    INVOICE_ADJUSTMENTS,
    COLLECTION_UPDATES,
    CUSTOMER_PROFILES,
)
OUTPUT_TOPICS: Final = (LATE_PAYMENT_FLAGS, CUSTOMER_SEGMENTS, COLLECTION_ACTIONS, DEAD_LETTER)

EVENT_TYPES: Final[dict[str, tuple[str, ...]]] = {
    INVOICE_ISSUED: ("invoice.issued",),
    PAYMENT_RECEIVED: ("payment.received", "payment.reversed"),
    DUE_DATE_PASSED: ("invoice.due_date_passed",),
    INVOICE_ADJUSTMENTS: (
        "credit_note.issued",
        "invoice.voided",
        "invoice.written_off",
        "invoice.due_date_changed",
    ),
    COLLECTION_UPDATES: (
        "dispute.opened",
        "dispute.resolved",
        "promise_to_pay.made",
        "payment_plan.agreed",
        "collection.hold_set",
        "collection.hold_released",
        "contact.outcome",
    ),
    CUSTOMER_PROFILES: ("customer.profile_updated",),
}
"""The `event_type` values the contract puts on each input topic (by default name).

An event of another type on a topic is refused: pass `frozenset(EVENT_TYPES[topic])` as
`parse_input`'s `expected_types`.
"""
