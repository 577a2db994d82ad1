"""What-if simulation: the worker's decisions over a recorded history, offline.

The same pure step the worker runs (`on_event`: the wakes due before an event, then the event)
is applied per customer in file order, and every customer is then advanced to the horizon. Events
are decided at their `occurred_at`, as the worker decides them when it keeps up; an event after
the horizon has not happened yet and is left out. Invalid lines are counted as dead letters.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from processor.core import translate
from processor.core.report_doc import aging_row, currency_figures
from processor.domain.calendar import customer_calendar
from processor.domain.decide import (
    ActionRequest,
    CommitmentStatus,
    Decision,
    FeeAssessment,
    LateFlag,
    Withdrawal,
    advance,
    on_event,
)
from processor.domain.errors import DomainError
from processor.domain.late_fees import accrued
from processor.domain.ledger import ZERO
from processor.domain.outputs import DiscountOffer
from processor.domain.owed import Owing
from processor.domain.plan import ledger_facts
from processor.domain.policy import DELINQUENCY_TYPES, RISK_BUCKETS, Policy, ReportsPolicy
from processor.domain.profile import NO_PROFILE
from processor.domain.receivables import CurrencyShare, share
from processor.domain.state import CustomerState
from schemas.events import INPUT_MODELS, InputEvent, PaymentReceived, PaymentReversed
from schemas.validation import Rejected, parse_input

INPUT_TYPES = frozenset(INPUT_MODELS)


@dataclass(frozen=True, slots=True)
class Decided:
    """One decision output with the customer it is about."""

    customer_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SimulatedAction(Decided):
    """An action the policy would have requested."""

    action: ActionRequest


@dataclass(frozen=True, slots=True)
class SimulatedFlag(Decided):
    """A late flag the worker would have published."""

    flag: LateFlag


@dataclass(frozen=True, slots=True)
class SimulatedOutput(Decided):
    """A withdrawal or a commitment status the worker would have published (collection topic)."""

    output: Withdrawal | CommitmentStatus


@dataclass
class Simulation:
    """Everything a policy decided over a history."""

    policy_version: str
    horizon: datetime | None = None
    events: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    actions: list[SimulatedAction] = field(default_factory=list)
    flags: list[SimulatedFlag] = field(default_factory=list)
    # Withdrawals and commitment statuses, in order (published beside the actions).
    others: list[SimulatedOutput] = field(default_factory=list)
    segment_changes: int = 0
    states: dict[str, CustomerState] = field(default_factory=dict)
    # Late fees to date published for the billing system (`late_fees.assess`), in order.
    fees: list[tuple[str, FeeAssessment]] = field(default_factory=list)
    # Cash received per (month, currency), less what reversals took back in their month.
    cash: defaultdict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    # Early-payment discounts taken, per currency.
    discounts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # Late fees accrued on what is still open at the horizon, per currency.
    fees_open: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    _payments: dict[tuple[str, str], tuple[str, Decimal]] = field(default_factory=dict)
    # What each customer's last decision found may be chased (the aging report's memo columns).
    owed: dict[str, Mapping[str, Owing]] = field(default_factory=dict)
    # The portfolio's receivables at the horizon, per currency, and how to report on them.
    receivables: dict[str, CurrencyShare] = field(default_factory=dict)
    reports: ReportsPolicy = field(default_factory=ReportsPolicy)
    countback_days: int = 0
    horizon_day: date | None = None

    def record(self, decisions: Iterable[Decision]) -> None:
        """Keep the outputs of decisions, in order."""
        for decision in decisions:
            state = decision.state
            at = state.decided_at
            assert at is not None  # every decision sets it
            self.actions += [SimulatedAction(state.customer_id, at, a) for a in decision.actions]
            self.flags += [SimulatedFlag(state.customer_id, at, f) for f in decision.flags]
            others: list[Withdrawal | CommitmentStatus] = [*decision.withdrawals]
            others += decision.statuses
            self.others += [SimulatedOutput(state.customer_id, at, o) for o in others]
            self.segment_changes += decision.segment_change is not None
            self.fees += [(state.customer_id, f) for f in decision.fees]
            self.owed[state.customer_id] = decision.owed
            # A fact the event contradicted is dead-lettered when it is found out.
            for retraction in decision.retracted:
                self.dead_letters[retraction.field] += 1

    def money(self, event: InputEvent, before: CustomerState, after: CustomerState) -> None:
        """Count the cash an applied event brought (or took back) and the discounts it settled."""
        key = (event.customer_id, getattr(event, "payment_id", ""))
        if isinstance(event, PaymentReceived):
            self._payments[key] = (event.currency, event.amount)
            self.cash[(event.received_on.isoformat()[:7], event.currency)] += event.amount
        elif isinstance(event, PaymentReversed) and key in self._payments:
            currency, amount = self._payments[key]
            self.cash[(event.reversed_on.isoformat()[:7], currency)] -= amount
        if before.ledger is after.ledger:
            return
        old, new = before.ledger.balances, after.ledger.balances
        for invoice_id, balance in new.items():
            was = old.get(invoice_id)
            taken = balance.discounted - (ZERO if was is None else was.discounted)
            if taken:
                self.discounts[after.ledger.invoices[invoice_id].currency] += taken


def simulate(
    lines: Iterable[bytes],
    policy: Policy,
    *,
    until: datetime | None = None,
    max_bytes: int = 65536,
) -> Simulation:
    """Run `policy` over JSON lines of input events; advance everyone to `until` (or the end)."""
    result = Simulation(policy_version=policy.version)
    latest: datetime | None = None
    for line in lines:
        if not line.strip():
            continue
        result.events += 1
        parsed = parse_input(line.strip(), expected_types=INPUT_TYPES, max_bytes=max_bytes)
        if isinstance(parsed, Rejected):
            result.dead_letters[parsed.error.field] += 1
            continue
        if until is not None and parsed.occurred_at > until:
            continue
        if not _apply(result, parsed, policy):
            continue
        latest = parsed.occurred_at if latest is None else max(latest, parsed.occurred_at)
    horizon = until or latest
    result.horizon = horizon
    if horizon is not None:
        for customer_id, state in result.states.items():
            decisions = advance(state, horizon, policy=policy)
            result.record(decisions)
            if decisions:
                result.states[customer_id] = decisions[-1].state
        _open_fees(result, horizon, policy)
        _receivables(result, horizon, policy)
    return result


def _receivables(result: Simulation, horizon: datetime, policy: Policy) -> None:
    """Sum every customer's share of the receivables, as the worker's projection does."""
    result.reports = policy.reports
    result.countback_days = policy.history.retain_days
    result.horizon_day = customer_calendar(NO_PROFILE, policy).today(horizon)
    for customer_id, state in result.states.items():
        calendar = customer_calendar(state.profile, policy)
        mine = share(state, result.owed.get(customer_id, {}), calendar)
        for currency, part in mine.currencies.items():
            result.receivables.setdefault(currency, CurrencyShare()).add(part)


def _apply(result: Simulation, parsed: InputEvent, policy: Policy) -> bool:
    """Decide one valid event for its customer; False when the domain refused it."""
    customer_id = parsed.customer_id
    state = result.states.get(customer_id) or CustomerState(customer_id=customer_id)
    try:
        progress = on_event(state, translate.to_fact(parsed), now=parsed.occurred_at, policy=policy)
    except DomainError as exc:
        result.dead_letters[exc.field] += 1
        return False
    result.record(progress.decisions)
    if progress.applied:
        result.money(parsed, state, progress.state)
        if translate.terms_problem(parsed) is not None:
            result.dead_letters["terms"] += 1  # the invoice is kept; its terms are refused
    result.states[customer_id] = progress.state
    return True


def _open_fees(result: Simulation, horizon: datetime, policy: Policy) -> None:
    """The late fees accrued at the horizon on every invoice still open."""
    if not policy.late_fees.enabled:
        return
    for state in result.states.values():
        calendar = customer_calendar(state.profile, policy)
        facts = ledger_facts(state.ledger, calendar)
        today = calendar.today(horizon)
        for row in facts.open:
            payable = facts.payable_by(row.invoice)
            fee = accrued(
                state.ledger, state.collection, row.invoice, payable, today, policy.late_fees
            )
            if fee is not None:
                result.fees_open[fee.currency] += fee.total


def summary(result: Simulation) -> dict[str, object]:
    """The figures a what-if comparison needs, as plain data (the CLI prints or dumps it)."""
    by_segment: dict[str, Counter[str]] = {bucket: Counter() for bucket in RISK_BUCKETS}
    commitments: Counter[str] = Counter()
    withdrawn = 0
    for other in result.others:
        if isinstance(other.output, CommitmentStatus):
            commitments[f"{other.output.kind} {other.output.status}"] += 1
        else:
            withdrawn += 1
    by_stage: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    per_customer: Counter[str] = Counter()
    for item in result.actions:
        action = item.action
        by_segment[action.segment.risk_bucket][action.action] += 1
        by_stage[action.stage] += 1
        by_type[action.segment.delinquency_type] += 1
        if action.action != "thank_you":
            per_customer[item.customer_id] += 1
    customers = len(result.states)
    contacts = [per_customer.get(c, 0) for c in result.states]
    segments = [state.segment for state in result.states.values() if state.segment]
    final_risk: Counter[str] = Counter(segment.risk_bucket for segment in segments)
    final_type: Counter[str] = Counter(segment.delinquency_type for segment in segments)
    return {
        "policy_version": result.policy_version,
        "horizon": None if result.horizon is None else result.horizon.isoformat(),
        "events": result.events,
        "dead_letters": sum(result.dead_letters.values()),
        "customers": customers,
        "late_flags": len(result.flags),
        "segment_changes": result.segment_changes,
        "actions": len(result.actions),
        "actions_by_segment": {
            bucket: dict(sorted(counts.items())) for bucket, counts in by_segment.items()
        },
        "actions_by_stage": dict(sorted(by_stage.items())),
        "contacts_per_customer": {
            "mean": round(sum(contacts) / customers, 2) if customers else 0.0,
            "max": max(contacts, default=0),
            "none": sum(1 for c in contacts if c == 0),
        },
        "final_risk_buckets": {bucket: final_risk.get(bucket, 0) for bucket in RISK_BUCKETS},
        "final_delinquency_types": {kind: final_type.get(kind, 0) for kind in DELINQUENCY_TYPES},
        "actions_by_delinquency_type": {kind: by_type.get(kind, 0) for kind in DELINQUENCY_TYPES},
        "withdrawn": withdrawn,
        "commitments": dict(sorted(commitments.items())),
        **_money_figures(result),
        **_collection_figures(result),
    }


def _collection_figures(result: Simulation) -> dict[str, object]:
    """The aging report and the collection figures at the horizon, and DSO and CEI by month.

    Month ends within the simulated period, from the same sums the worker keeps in Redis.
    """
    day = result.horizon_day
    if day is None or not result.receivables:
        return {"aging_at_horizon": {}, "collection_figures": {}, "collection_by_month": {}}

    def on(when: date) -> dict[str, dict[str, object]]:
        return {
            currency: currency_figures(mine, currency, when, result.reports, result.countback_days)
            for currency, mine in sorted(result.receivables.items())
        }

    first = min(min(m.sales, default=day) for m in result.receivables.values())
    by_month: dict[str, dict[str, dict[str, object]]] = {}
    month_end = _month_end(first)
    while month_end < day:
        by_month[month_end.isoformat()[:7]] = {
            c: {k: row[k] for k in ("dso_countback", "dso_simple", "cei_percent", "receivables")}
            for c, row in on(month_end).items()
        }
        month_end = _month_end(month_end + timedelta(days=1))
    return {
        "aging_at_horizon": {
            c: aging_row(c, mine, day) for c, mine in sorted(result.receivables.items())
        },
        "collection_figures": {"as_of": day.isoformat(), "currencies": on(day)},
        "collection_by_month": by_month,
    }


def _month_end(day: date) -> date:
    """The last day of `day`'s month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _money_figures(result: Simulation) -> dict[str, object]:
    """Cash and when, what was referred, offered, discounted and charged (money as strings)."""
    by_month: dict[str, dict[str, str]] = {}
    for (month, currency), amount in sorted(result.cash.items()):
        by_month.setdefault(month, {})[currency] = str(amount)
    referred: defaultdict[str, Decimal] = defaultdict(Decimal)
    offered: defaultdict[str, Decimal] = defaultdict(Decimal)
    offers = links = 0
    for item in result.actions:
        action = item.action
        if action.action == "agency_referral":
            referred[action.currency] += action.amount_outstanding
        if action.discount_offers:
            offers += 1
            offered[action.currency] += sum((o.saves for o in action.discount_offers), ZERO)
        links += action.payment_url is not None
    final: defaultdict[str, Decimal] = defaultdict(Decimal)
    for _customer, fee in result.fees:
        if fee.final:
            final[fee.fee.currency] += fee.fee.total
    return {
        "cash_collected_by_month": by_month,
        "referred_to_agency": _texts(referred),
        "discounts_taken": _texts(result.discounts),
        "discount_offers": {"actions": offers, "saves": _texts(offered), **_if_taken(result)},
        "late_fees": {
            "assessments": len(result.fees),
            "settled_invoices": _texts(final),
            "open_at_horizon": _texts(result.fees_open),
        },
        "actions_with_payment_url": links,
    }


def _if_taken(result: Simulation) -> dict[str, object]:
    """What the offers would have changed had every customer offered a discount taken it.

    A recorded history's payments do not answer a policy; this says, for the invoices offered a
    discount and paid in full later anyway, how much cash would have come how much earlier, and
    what it would have cost. Offered and taken, and offered and still unpaid, are counted too.
    """
    offered: dict[tuple[str, str], tuple[DiscountOffer, str]] = {}
    for item in result.actions:
        for offer in item.action.discount_offers:
            offered.setdefault((item.customer_id, offer.invoice_id), (offer, item.action.currency))
    cash: defaultdict[str, Decimal] = defaultdict(Decimal)
    cost: defaultdict[str, Decimal] = defaultdict(Decimal)
    unpaid: defaultdict[str, Decimal] = defaultdict(Decimal)
    earlier: list[int] = []
    taken = 0
    for (customer_id, invoice_id), (offer, currency) in sorted(offered.items()):
        balance = result.states[customer_id].ledger.balances.get(invoice_id)
        if balance is None:  # archived since: settled long ago
            continue
        if balance.discounted:
            taken += 1
        elif balance.closed_by == "paid" and balance.settled_on is not None:
            earlier.append((balance.settled_on - offer.pay_by).days)
            cash[currency] += offer.pay
            cost[currency] += offer.saves
        elif not balance.is_paid:
            unpaid[currency] += balance.outstanding
    return {
        "offered_invoices": len(offered),
        "offered_and_taken": taken,
        "offered_paid_later": len(earlier),
        "if_taken": {
            "cash_sooner": _texts(cash),
            "mean_days_sooner": round(sum(earlier) / len(earlier), 1) if earlier else 0.0,
            "cost": _texts(cost),
        },
        "offered_still_unpaid": _texts(unpaid),
    }


def _texts(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in sorted(amounts.items()) if amount}
