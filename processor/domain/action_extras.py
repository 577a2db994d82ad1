"""What an action carries besides the ladder's choice: a way to pay, fees, a discount on offer.

- `payment_url`: every chasing action sent on a customer-facing channel (not a thank-you, not an
  internal task, not the agency's) carries the policy's payment link, filled in and URL-encoded.
- `late_fees`: every chasing action states what has accrued on its invoices (`late_fees`), and
  its reason says so; with `late_fees.assess` each such statement is also a `late_fee.assessed`
  for the billing system, as is the final figure when an invoice that owed fees closes (zero
  when it turns out to owe none).
- `discount_offers`: a preventive reminder to a customer the policy offers it to says what
  paying each invoice by its terms' discount date saves, while that date has not passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from urllib.parse import quote

from processor.domain.ids import stable_id
from processor.domain.late_fees import accrued, describe, fee_text
from processor.domain.ledger import ZERO, Balance, Invoice, Ledger
from processor.domain.outputs import ActionRequest, Cause, DiscountOffer, FeeAssessment, LateFee
from processor.domain.plan import LedgerFacts
from processor.domain.policy import LateFeePolicy, Policy
from processor.domain.profile import CUSTOMER_FACING
from processor.domain.state import CustomerState

# Actions that ask the customer (or a collector) for money owed: they state the fees accrued.
CHASING = frozenset(
    {
        "reminder",
        "call_task",
        "payment_plan_offer",
        "credit_hold",
        "agency_referral",
        "promise_follow_up",
    }
)


def with_extras(
    actions: tuple[ActionRequest, ...],
    state: CustomerState,
    facts: LedgerFacts,
    today: date,
    policy: Policy,
) -> tuple[ActionRequest, ...]:
    """The actions with their payment link, fees and discount offers filled in."""
    if not actions:
        return ()
    customer_id, ledger = state.customer_id, state.ledger
    link = policy.payment.url_template
    fees_on = policy.late_fees.enabled
    offers_on = bool(policy.discount_offer.value_tiers or policy.discount_offer.customers)
    if link is None and not fees_on and not offers_on:
        return actions
    done = []
    for action in actions:
        changes: dict[str, object] = {}
        notes = ""
        if action.action in CHASING and fees_on:
            fees = _fees(action, state, facts, today, policy)
            if fees:
                changes["late_fees"] = fees
                notes += _fees_note(fees, policy)
        if action.action == "reminder" and action.stage == "preventive" and offers_on:
            offers = _offers(action, customer_id, ledger, today, policy)
            if offers:
                changes["discount_offers"] = offers
                notes += _offers_note(offers, action.currency)
        if link is not None and action.channel in CUSTOMER_FACING and action.action in CHASING:
            changes["payment_url"] = payment_url(link, action, customer_id)
        if notes:
            changes["reason"] = action.reason + notes
        done.append(replace(action, **changes) if changes else action)  # type: ignore[arg-type]
    return tuple(done)


def payment_url(template: str, action: ActionRequest, customer_id: str) -> str:
    """The policy's payment link for an action, every value URL-encoded."""
    values = {
        "customer_id": customer_id,
        "invoice_id": action.invoice_ids[0] if action.invoice_ids else "",
        "invoice_ids": ",".join(action.invoice_ids),
        "currency": action.currency,
        "amount": str(action.amount_outstanding),
    }
    return template.format(**{k: quote(v, safe="") for k, v in values.items()})


def _fees(
    action: ActionRequest, state: CustomerState, facts: LedgerFacts, today: date, policy: Policy
) -> tuple[LateFee, ...]:
    found = []
    ledger = state.ledger
    for invoice_id in action.invoice_ids:
        invoice = ledger.invoices.get(invoice_id)
        if invoice is None:
            continue
        payable = facts.payable_by(invoice)
        fee = accrued(ledger, state.collection, invoice, payable, today, policy.late_fees)
        if fee is not None:
            found.append(fee)
    return tuple(found)


def _fees_note(fees: tuple[LateFee, ...], policy: Policy) -> str:
    total = sum((f.total for f in fees), ZERO)
    return (
        f" Late fees accrued to date (stated, not invoiced): {total} {fees[0].currency}: "
        f"{'; '.join(fee_text(f) for f in fees)}; by {describe(policy.late_fees)}."
    )


def _offers(
    action: ActionRequest, customer_id: str, ledger: Ledger, today: date, policy: Policy
) -> tuple[DiscountOffer, ...]:
    if not policy.discount_offer.offered_to(customer_id, action.segment.value_tier):
        return ()
    found = []
    for invoice_id in action.invoice_ids:
        invoice = ledger.invoices.get(invoice_id)
        offer = (
            None if invoice is None else open_discount(invoice, ledger.balances[invoice_id], today)
        )
        if offer is not None:
            found.append(offer)
    return tuple(found)


def open_discount(invoice: Invoice, balance: Balance, today: date) -> DiscountOffer | None:
    """What paying `invoice` by its terms' discount date saves, while that date has not passed."""
    terms = invoice.terms
    until = None if terms is None else terms.discount_until(invoice.issued_on)
    if terms is None or until is None or until < today:
        return None
    saves = terms.discount(invoice.amount - balance.credited, invoice.currency)
    pay = balance.outstanding - saves
    if saves <= ZERO or pay <= ZERO:
        return None
    return DiscountOffer(
        invoice_id=invoice.invoice_id, pay_by=until, pay=pay, saves=saves, terms=terms.text
    )


def _offers_note(offers: tuple[DiscountOffer, ...], currency: str) -> str:
    parts = [
        f"pay {o.pay} {currency} for {o.invoice_id} by {o.pay_by} and save {o.saves} {currency} "
        f"(terms {o.terms})"
        for o in offers
    ]
    return f" Early-payment offer: {'; '.join(parts)}."


def assessments(
    actions: Iterable[ActionRequest],
    before: CustomerState,
    after: CustomerState,
    facts: LedgerFacts,
    today: date,
    cause: Cause,
    policy: Policy,
) -> tuple[FeeAssessment, ...]:
    """`late_fee.assessed` for each fee an action states, and a final one when an invoice closes.

    An invoice that owed fees (as of `today`, before this change) and is now settled, voided or
    written off gets its final figure: what accrued until it was settled, or zero (voided, written
    off, or found paid in time or credited in full), so the figure that stands is never stale.
    The id is the customer's, the invoice's, the day's and the amount's: the same statement
    always has the same id, so a repeat is harmless; the latest per invoice stands.
    """
    rules = policy.late_fees
    if not rules.assess or (before.ledger is after.ledger and not actions):
        return ()
    rule = describe(rules)
    customer_id = after.customer_id
    found: dict[str, FeeAssessment] = {}
    for action in actions:
        for fee in action.late_fees:
            found[fee.invoice_id] = _assessment(customer_id, fee, False, rule, cause)
    if before.ledger is not after.ledger:
        for fee in _finals(before, after, facts, today, rules):
            found[fee.invoice_id] = _assessment(customer_id, fee, True, rule, cause)
    return tuple(found[k] for k in sorted(found))


def _finals(
    before: CustomerState,
    after: CustomerState,
    facts: LedgerFacts,
    today: date,
    rules: LateFeePolicy,
) -> list[LateFee]:
    """The final fees of invoices this change closed that owed fees before it."""
    finals = []
    old_ledger, new_ledger = before.ledger, after.ledger
    for invoice_id, balance in new_ledger.balances.items():
        old = old_ledger.balances.get(invoice_id)
        if old is None or old.is_paid or not balance.is_paid:
            continue
        invoice = new_ledger.invoices[invoice_id]
        payable = facts.payable_by(invoice)
        was = old_ledger.invoices.get(invoice_id)
        owed_before = was is not None and (
            accrued(old_ledger, before.collection, was, payable, today, rules) is not None
        )
        settled = balance.settled_on or today
        final = accrued(new_ledger, after.collection, invoice, payable, settled, rules)
        if final is not None:
            finals.append(final)
        elif owed_before:
            finals.append(
                LateFee(
                    invoice_id=invoice_id,
                    currency=invoice.currency,
                    fixed=ZERO,
                    interest=ZERO,
                    total=ZERO,
                    as_of=settled,
                    days_late=max(0, (settled - payable).days),
                )
            )
    return finals


def _assessment(
    customer_id: str, fee: LateFee, final: bool, rule: str, cause: Cause
) -> FeeAssessment:
    return FeeAssessment(
        event_id=stable_id(
            "late_fee",
            customer_id,
            fee.invoice_id,
            fee.as_of.isoformat(),
            str(fee.total),
            "final" if final else "to-date",
        ),
        fee=fee,
        final=final,
        rule=rule,
        caused_by=cause.id,
    )
