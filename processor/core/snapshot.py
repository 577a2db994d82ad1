"""The customer snapshot: what any service reads about one customer (Redis and HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from processor.core.report_doc import aging_row, share_or_none
from processor.core.state_codec import decode_state
from processor.domain.action_extras import open_discount
from processor.domain.calendar import customer_calendar
from processor.domain.decide import business_date, standing
from processor.domain.late_fees import accrued
from processor.domain.ledger import Invoice, pending_reversals
from processor.domain.owed import Owing
from processor.domain.plan import ledger_facts
from processor.domain.policy import Policy
from processor.domain.receivables import Share, share
from processor.domain.segmentation import Assessment
from processor.domain.state import SEGMENT_DIMENSIONS, CustomerState
from schemas.events import money_text

_SHARE = Decimal("0.001")


def _profile(state: CustomerState) -> dict[str, Any] | None:
    profile = state.profile
    if profile.is_empty:
        return None
    score = profile.credit_score
    return {
        "name": profile.name,
        "time_zone": profile.time_zone,
        "country": profile.country,
        "customer_type": profile.customer_type,
        "credit_limit": None
        if profile.credit_limit is None
        else {c: money_text(a) for c, a in sorted(profile.credit_limit.items())},
        "credit_score": None
        if score is None
        else {
            "score": score.score,
            "source": score.source,
            "as_of": None if score.as_of is None else score.as_of.isoformat(),
        },
        "channels": None if profile.channels is None else sorted(profile.channels),
        "do_not_contact": profile.do_not_contact,
    }


def _invoice_row(
    state: CustomerState,
    inv: Invoice,
    payable_by: date,
    today: date,
    owed: Mapping[str, Owing] | None,
) -> dict[str, Any]:
    """One open invoice as a collector reads it."""
    balance = state.ledger.balances[inv.invoice_id]
    row: dict[str, Any] = {
        "invoice_id": inv.invoice_id,
        "amount": money_text(inv.amount),
        "outstanding": money_text(balance.outstanding),
        "currency": inv.currency,
        "issued_on": inv.issued_on.isoformat(),
        "due_date": inv.due_date.isoformat(),
        "days_past_due": max(0, (today - payable_by).days),
        "flagged": state.flags.get(inv.invoice_id),
    }
    if payable_by != inv.due_date:
        row["payable_by"] = payable_by.isoformat()
    if balance.credited or balance.written_off:
        row["credited"] = money_text(balance.credited)
        row["written_off"] = money_text(balance.written_off)
    if inv.issued_due is not None:
        row["issued_due_date"] = inv.issued_due.isoformat()
    if inv.terms is not None:
        row["terms"] = inv.terms.text
        offer = open_discount(inv, balance, today)
        if offer is not None:
            row["discount"] = {
                "pay_by": offer.pay_by.isoformat(),
                "pay": money_text(offer.pay),
                "saves": money_text(offer.saves),
            }
    owing = None if owed is None else owed.get(inv.invoice_id)
    if owing is not None:
        row["to_collect"] = money_text(owing.chaseable)
        row["not_chased"] = list(owing.paused)
    return row


def customer_snapshot(
    state: CustomerState,
    assessment: Assessment,
    *,
    today: date,
    at: datetime,
    owed: Mapping[str, Owing] | None = None,
    policy: Policy | None = None,
    receivables: Share | None = None,
) -> dict[str, Any]:
    """A JSON-ready view of one customer; money as decimal strings, dates as ISO strings.

    `owed` (what may be chased of each open invoice) adds `to_collect` and `not_chased` to
    each open invoice: what a collector may ask for, and why the rest is paused. `policy` dates
    each invoice's lateness from the day it is payable by on the customer's calendar.
    `receivables` (its share of the portfolio's) adds its aging report, per currency.
    """
    ledger = state.ledger
    figures = assessment.figures
    facts = (
        None if policy is None else ledger_facts(ledger, customer_calendar(state.profile, policy))
    )
    open_invoices = []
    fees_total: dict[str, Decimal] = {}
    for inv in ledger.open_invoices():
        payable_by = inv.due_date if facts is None else facts.payable_by(inv)
        row = _invoice_row(state, inv, payable_by, today, owed)
        fee = (
            None
            if policy is None
            else accrued(ledger, state.collection, inv, payable_by, today, policy.late_fees)
        )
        if fee is not None:
            row["late_fees"] = {
                "fixed": money_text(fee.fixed),
                "interest": money_text(fee.interest),
                "total": money_text(fee.total),
                "days_late": fee.days_late,
                "capped": fee.capped,
            }
            fees_total[inv.currency] = fees_total.get(inv.currency, Decimal(0)) + fee.total
        open_invoices.append(row)
    segment = state.segment
    return {
        "customer_id": state.customer_id,
        "customer_name": state.profile.name or state.customer_name,
        "segment": None
        if segment is None
        else {dimension: getattr(segment, dimension) for dimension in SEGMENT_DIMENSIONS},
        "risk_score": assessment.risk_score,
        "risk_points": dict(assessment.points),
        "stake": assessment.stake,
        "delinquency_reason": assessment.delinquency_reason,
        "profile": _profile(state),
        "credit_limits": [
            {"currency": c, "owed": money_text(owed), "limit": money_text(limit)}
            for c, owed, limit in assessment.credit.utilisation
        ],
        "open_invoices": open_invoices,
        "outstanding": {
            c: money_text(a) for c, a in sorted(ledger.outstanding_by_currency().items())
        },
        # The customer's row of the aging report per currency (docs/reports.md).
        "aging": None
        if receivables is None
        else {c: aging_row(c, part, today) for c, part in sorted(receivables.currencies.items())},
        # Late fees accrued on open invoices (stated, not invoiced; policy late_fees).
        "late_fees": {c: money_text(a) for c, a in sorted(fees_total.items())},
        # Early-payment discounts taken on the invoices the state still holds.
        "discounts_taken": [
            {
                "invoice_id": k,
                "discount": money_text(b.discounted),
                "currency": ledger.invoices[k].currency,
                "settled_on": None if b.settled_on is None else b.settled_on.isoformat(),
            }
            for k, b in sorted(ledger.balances.items())
            if b.discounted
        ],
        "credit": {c: money_text(a) for c, a in ledger.credit.items()},
        "held_payments": [k[2:] for k in ledger.held if k.startswith("p:")],
        "unapplied": [
            {
                "source": u.source,
                "id": u.source_id,
                "amount": money_text(u.amount),
                "currency": u.currency,
                "received_on": u.received_on.isoformat(),
                "invoice_id": u.invoice_id,
                "reason": u.reason,
            }
            for u in ledger.unapplied()
        ],
        # Reversals waiting for their payment (not seen yet, or archived: then by hand).
        "pending_reversals": pending_reversals(ledger),
        "disputes": [
            {
                "dispute_id": d.dispute_id,
                "invoice_id": d.invoice_id,
                "amount": None if d.amount is None else money_text(d.amount),
                "opened_on": None if d.opened_on is None else d.opened_on.isoformat(),
                "outcome": d.outcome,
            }
            for d in sorted(state.collection.disputes.values(), key=lambda d: d.dispute_id)
        ],
        "commitments": dict(sorted(state.statuses.items())),
        "holds": sorted(h.hold_id for h in state.collection.holds.values() if h.active(today)),
        "payment_behavior": {
            "paid_invoices": figures.paid_invoices,
            "late_invoices": figures.late_invoices,
            "unpaid_past_due": figures.unpaid_late,
            "late_share": money_text(figures.late_share.quantize(_SHARE)),
            "average_days_late": money_text(figures.average_days_late),
            "max_days_late": figures.max_days_late,
        },
        "invoices_total": len(ledger.invoices),
        "last_change_reason": state.last_reason,
        "as_of": today.isoformat(),
        "updated_at": at.isoformat(),
    }


def stored_view(
    raw: bytes, policy: Policy, now: datetime
) -> tuple[dict[str, Any], dict[str, dict[str, str]] | None]:
    """A stored state's snapshot and share of the receivables, decided afresh at `now`.

    What a rebuild of the read model writes for a customer (`arpulse projection rebuild`, and a
    worker whose Redis lost its data), from the table alone.
    """
    state = decode_state(raw)
    today = business_date(now, policy, state)
    assessment, owed, _found = standing(state, today, policy)
    receivables = share(state, owed, customer_calendar(state.profile, policy))
    snapshot = customer_snapshot(
        state, assessment, today=today, at=now, owed=owed, policy=policy, receivables=receivables
    )
    return snapshot, share_or_none(receivables)
