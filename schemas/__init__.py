"""The arpulse wire contract: event models, topic names, validation and JSON Schema export."""

from schemas.events import (
    CollectionActionRequested,
    DeadLetter,
    DueDatePassed,
    InvoiceIssued,
    LatePaymentFlagged,
    PaymentReceived,
    Segment,
    SegmentChanged,
)
from schemas.validation import ContractError, Rejected, parse_input

__all__ = [
    "CollectionActionRequested",
    "ContractError",
    "DeadLetter",
    "DueDatePassed",
    "InvoiceIssued",
    "LatePaymentFlagged",
    "PaymentReceived",
    "Rejected",
    "Segment",
    "SegmentChanged",
    "parse_input",
]
