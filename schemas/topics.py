"""Default topic names of the wire contract (each one is configurable in the worker's settings)."""

from typing import Final

INVOICE_ISSUED: Final = "ar.invoice-issued"
PAYMENT_RECEIVED: Final = "ar.payment-received"
DUE_DATE_PASSED: Final = "ar.due-date-passed"

LATE_PAYMENT_FLAGS: Final = "ar.late-payment-flags"
CUSTOMER_SEGMENTS: Final = "ar.customer-segments"
COLLECTION_ACTIONS: Final = "ar.collection-actions"
DEAD_LETTER: Final = "ar.dead-letter"

INPUT_TOPICS: Final = (INVOICE_ISSUED, PAYMENT_RECEIVED, DUE_DATE_PASSED)
OUTPUT_TOPICS: Final = (LATE_PAYMENT_FLAGS, CUSTOMER_SEGMENTS, COLLECTION_ACTIONS, DEAD_LETTER)
