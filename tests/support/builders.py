"""Domain facts for unit tests, with dates given as day offsets from a fixed origin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from processor.domain.facts import (
    ContactOutcome,
    CreditNoteIssued,
    DisputeOpened,
    DisputeResolved,
    DueDateChanged,
    DueDatePassed,
    HoldReleased,
    HoldSet,
    Instalment,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentReceived,
    PaymentReversed,
    PlanAgreed,
    ProfileUpdated,
    PromiseMade,
)

ORIGIN = date(2026, 1, 1)
CUSTOMER = "cust-1"


def day(n: int) -> date:
    """The date `n` days after the origin."""
    return ORIGIN + timedelta(days=n)


def at(n: int, hour: int = 12) -> datetime:
    """Noon UTC on day `n`."""
    return datetime.combine(day(n), time(hour), tzinfo=UTC)


def inv(
    invoice_id: str,
    amount: str = "100.00",
    *,
    issued: int = 0,
    due: int = 30,
    currency: str = "USD",
    event_id: str | None = None,
    terms: str | None = None,
) -> InvoiceIssued:
    """An invoice issued on day `issued`, due on day `due` (on `terms`, when given)."""
    return InvoiceIssued(
        event_id=event_id or f"e-{invoice_id}",
        customer_id=CUSTOMER,
        occurred_at=at(issued),
        invoice_id=invoice_id,
        amount=Decimal(amount),
        currency=currency,
        issued_on=day(issued),
        due_date=day(due),
        terms=terms,
    )


def pay(
    payment_id: str,
    amount: str,
    *,
    on: int,
    invoice_id: str | None = None,
    currency: str = "USD",
    event_id: str | None = None,
) -> PaymentReceived:
    """A payment received on day `on`."""
    return PaymentReceived(
        event_id=event_id or f"e-{payment_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        payment_id=payment_id,
        amount=Decimal(amount),
        currency=currency,
        received_on=day(on),
        invoice_id=invoice_id,
    )


def due(invoice_id: str, *, on: int = 30, event_id: str | None = None) -> DueDatePassed:
    """The due-date-passed notice of an invoice due on day `on`."""
    return DueDatePassed(
        event_id=event_id or f"e-due-{invoice_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on + 1),
        invoice_id=invoice_id,
        due_date=day(on),
    )


def credit(
    note_id: str,
    amount: str,
    *,
    on: int,
    invoice_id: str | None = None,
    currency: str = "USD",
) -> CreditNoteIssued:
    """A credit note issued on day `on`."""
    return CreditNoteIssued(
        event_id=f"e-{note_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        credit_note_id=note_id,
        amount=Decimal(amount),
        currency=currency,
        issued_on=day(on),
        invoice_id=invoice_id,
    )


def void(invoice_id: str, *, on: int) -> InvoiceVoided:
    """The void of an invoice on day `on`."""
    return InvoiceVoided(
        event_id=f"e-void-{invoice_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        invoice_id=invoice_id,
        voided_on=day(on),
    )


def write_off(invoice_id: str, *, on: int, amount: str | None = None) -> InvoiceWrittenOff:
    """A write-off of an invoice (all still owed, or `amount`) on day `on`."""
    return InvoiceWrittenOff(
        event_id=f"e-wo-{invoice_id}-{on}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        invoice_id=invoice_id,
        written_off_on=day(on),
        amount=None if amount is None else Decimal(amount),
        reason="bad_debt",
    )


def move_due(invoice_id: str, *, to: int, on: int) -> DueDateChanged:
    """A due-date change of an invoice to day `to`, agreed on day `on`."""
    return DueDateChanged(
        event_id=f"e-move-{invoice_id}-{to}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        invoice_id=invoice_id,
        due_date=day(to),
        changed_on=day(on),
    )


def reverse(payment_id: str, *, on: int, reason: str = "nsf") -> PaymentReversed:
    """The reversal of a payment on day `on`."""
    return PaymentReversed(
        event_id=f"e-rev-{payment_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        payment_id=payment_id,
        reversed_on=day(on),
        reason=reason,
    )


def dispute(
    dispute_id: str, invoice_id: str, *, on: int, amount: str | None = None
) -> DisputeOpened:
    """A dispute opened on day `on` (on all outstanding, or on `amount`)."""
    return DisputeOpened(
        event_id=f"e-{dispute_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        dispute_id=dispute_id,
        invoice_id=invoice_id,
        opened_on=day(on),
        amount=None if amount is None else Decimal(amount),
        reason="goods damaged",
    )


def resolve(dispute_id: str, outcome: str, *, on: int) -> DisputeResolved:
    """A dispute resolved on day `on`."""
    return DisputeResolved(
        event_id=f"e-{dispute_id}-{outcome}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        dispute_id=dispute_id,
        resolved_on=day(on),
        outcome=outcome,
    )


def promise(
    promise_id: str,
    amount: str,
    *,
    by: int,
    on: int,
    invoice_ids: tuple[str, ...] = (),
    currency: str = "USD",
) -> PromiseMade:
    """A promise made on day `on` to pay `amount` by day `by`."""
    return PromiseMade(
        event_id=f"e-{promise_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        promise_id=promise_id,
        amount=Decimal(amount),
        currency=currency,
        promised_on=day(by),
        made_on=day(on),
        invoice_ids=invoice_ids,
        source="collector",
    )


def plan(
    plan_id: str,
    invoice_ids: tuple[str, ...],
    parts: list[tuple[int, str]],
    *,
    on: int,
    currency: str = "USD",
) -> PlanAgreed:
    """A payment plan agreed on day `on`: (due day, amount) instalments."""
    return PlanAgreed(
        event_id=f"e-{plan_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        plan_id=plan_id,
        currency=currency,
        invoice_ids=invoice_ids,
        instalments=tuple(Instalment(due_date=day(d), amount=Decimal(a)) for d, a in parts),
        agreed_on=day(on),
    )


def hold(
    hold_id: str, *, on: int, invoice_id: str | None = None, until: int | None = None
) -> HoldSet:
    """A hold set on day `on` (one invoice, or the customer), optionally until a day."""
    return HoldSet(
        event_id=f"e-{hold_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        hold_id=hold_id,
        invoice_id=invoice_id,
        until=None if until is None else day(until),
        reason="legal",
    )


def release(hold_id: str, *, on: int) -> HoldReleased:
    """The release of a hold on day `on`."""
    return HoldReleased(
        event_id=f"e-{hold_id}-released", customer_id=CUSTOMER, occurred_at=at(on), hold_id=hold_id
    )


def outcome(action_event_id: str, result: str, *, on: int) -> ContactOutcome:
    """What became of a published action, reported on day `on`."""
    return ContactOutcome(
        event_id=f"e-outcome-{action_event_id}-{result}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        action_event_id=action_event_id,
        outcome=result,
        at=at(on),
    )


def profile(
    *,
    on: int = 0,
    hour: int = 12,
    event_id: str | None = None,
    **fields: object,
) -> ProfileUpdated:
    """A profile update at `hour` UTC on day `on` stating `fields` (the others absent)."""
    return ProfileUpdated(
        event_id=event_id or f"e-profile-{on}-{hour}-{'-'.join(sorted(fields))}",
        customer_id=CUSTOMER,
        occurred_at=at(on, hour),
        **fields,  # type: ignore[arg-type]
    )
