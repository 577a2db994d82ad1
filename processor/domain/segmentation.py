"""Segmentation: aging bucket, behaviour class, value tier, risk bucket and priority.

Each is a function of the ledger, `today` and the policy, so the same facts on the same day
always give the same segment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from processor.domain.ledger import ZERO, Invoice, Ledger
from processor.domain.memo import IdentityMemo
from processor.domain.plan import LedgerFacts, ledger_facts
from processor.domain.policy import AGING_EDGES, BehaviorPolicy, Policy, ValueTierPolicy
from processor.domain.state import CustomerState, Segment


@dataclass(frozen=True, slots=True, kw_only=True)
class BehaviorFigures:
    """Payment history over the behaviour window: what the behaviour class is computed from."""

    paid_invoices: int
    late_invoices: int
    average_days_late: Decimal
    max_days_late: int
    broken_commitments: int = 0

    @property
    def late_share(self) -> Decimal:
        """Late paid invoices / paid invoices (0 with no history)."""
        if self.paid_invoices == 0:
            return ZERO
        return Decimal(self.late_invoices) / Decimal(self.paid_invoices)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """A segment plus the figures behind it, for reasons a collector can read."""

    segment: Segment
    oldest_unpaid: Invoice | None
    days_past_due: int
    figures: BehaviorFigures
    risk_score: int


class ResidueTest:
    """Whether a balance is a residue under one policy (tolerances looked up once each)."""

    __slots__ = ("_collection", "_known")

    def __init__(self, policy: Policy) -> None:
        self._collection = policy.collection
        self._known: dict[str, Decimal] = {}

    def __call__(self, outstanding: Decimal, currency: str) -> bool:
        """True for a balance too small to chase or age (below the currency's tolerance)."""
        if outstanding <= ZERO:
            return False
        tolerance = self._known.get(currency)
        if tolerance is None:
            tolerance = self._known[currency] = self._collection.tolerance_for(currency)
        return outstanding < tolerance


residue_test: IdentityMemo[Policy, ResidueTest] = IdentityMemo(ResidueTest)


def is_residue(outstanding: Decimal, currency: str, policy: Policy) -> bool:
    """True for a balance too small to chase or age (below the currency's tolerance)."""
    return residue_test(policy)(outstanding, currency)


def days_past_due(invoice: Invoice, today: date) -> int:
    """Whole days since the due date (0 or negative: not yet late)."""
    return (today - invoice.due_date).days


def aging_bucket(days: int) -> str:
    """The contract's aging bucket for a number of days past due."""
    for upper, name in AGING_EDGES:
        if days <= upper:
            return name
    return "120+"


def _figures(facts: LedgerFacts, today: int, policy: BehaviorPolicy) -> BehaviorFigures:
    since = today - policy.window_days
    paid = 0
    late = []
    tolerance = policy.late_tolerance_days
    for settled, days_late in facts.settlements:
        if since < settled <= today:
            paid += 1
            if days_late > tolerance:
                late.append(days_late)
    average = ZERO
    if late:
        average = (Decimal(sum(late)) / Decimal(len(late))).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    return BehaviorFigures(
        paid_invoices=paid,
        late_invoices=len(late),
        average_days_late=average,
        max_days_late=max(late, default=0),
    )


def behavior_class(
    figures: BehaviorFigures, policy: BehaviorPolicy, habitual_broken: int = 2
) -> str:
    """New / on_time / occasionally_late / habitually_late; broken promises count against it."""
    broken = figures.broken_commitments
    if broken >= habitual_broken:
        return "habitually_late"
    if figures.paid_invoices < policy.min_paid_invoices:
        return "occasionally_late" if broken else "new"
    share = figures.late_share
    if broken and share <= policy.on_time_max_late_share:
        return "occasionally_late"
    if share <= policy.on_time_max_late_share:
        return "on_time"
    if (
        share >= policy.habitual_min_late_share
        or figures.average_days_late >= policy.habitual_min_avg_days_late
    ):
        return "habitually_late"
    return "occasionally_late"


def _tier(facts: LedgerFacts, today: int, policy: ValueTierPolicy) -> str:
    since = today - policy.window_days
    invoiced: dict[str, Decimal] = {}
    for issued, currency, amount in facts.invoiced:
        if since < issued <= today:
            invoiced[currency] = invoiced.get(currency, ZERO) + amount
    tier = "small"
    for currency, total in invoiced.items():
        threshold = policy.thresholds.get(currency)
        if threshold is None:
            continue
        if total >= threshold.key:
            return "key"
        if total >= threshold.mid:
            tier = "mid"
    return tier


def assess(ledger: Ledger, today: date, policy: Policy) -> Assessment:
    """The customer's segment on `today`, with the figures that produced it."""
    return assessed(ledger_facts(ledger), today, policy)


def assessed(facts: LedgerFacts, today: date, policy: Policy, *, broken: int = 0) -> Assessment:
    """`assess` on a ledger's derived facts; `broken`: commitments broken in the window.

    A residue below the currency's tolerance is not aged: the oldest invoice that counts is the
    oldest one owing more.
    """
    day = today.toordinal()
    residue = residue_test(policy)
    aged = next((r for r in facts.open if not residue(r.outstanding, r.invoice.currency)), None)
    oldest = aged.invoice if aged is not None else None
    overdue_days = day - aged.due if aged is not None else 0
    aging = aging_bucket(overdue_days)
    figures = _figures(facts, day, policy.behavior)
    if broken:
        figures = replace(figures, broken_commitments=broken)
    collection = policy.collection
    behavior = behavior_class(figures, policy.behavior, collection.habitual_broken_commitments)
    tier = _tier(facts, day, policy.value_tier)
    score = min(
        100,
        policy.risk.aging_points[aging]
        + policy.risk.behavior_points[behavior]
        + broken * collection.broken_commitment_risk_points,
    )
    if score >= policy.risk.high_from:
        risk = "high"
    elif score >= policy.risk.medium_from:
        risk = "medium"
    else:
        risk = "low"
    priority = 0
    if overdue_days > 0:
        raw = Decimal(score) * policy.priority.risk_weight + policy.priority.tier_points[tier]
        priority = max(1, min(100, int(raw.to_integral_value(rounding=ROUND_HALF_UP))))
    segment = Segment(
        aging_bucket=aging, behavior=behavior, value_tier=tier, risk_bucket=risk, priority=priority
    )
    return Assessment(
        segment=segment,
        oldest_unpaid=oldest,
        days_past_due=overdue_days,
        figures=figures,
        risk_score=score,
    )


@dataclass(frozen=True, slots=True)
class Exposure:
    """What one customer adds to portfolio totals: its risk bucket and open amounts by aging."""

    risk_bucket: str | None
    outstanding: tuple[tuple[str, str, Decimal], ...]  # (aging bucket, currency, amount)


def exposure(state: CustomerState) -> Exposure:
    """The customer's contribution as of its last assessment (each open invoice in its bucket)."""
    if state.segment is None or state.assessed_on is None:
        return Exposure(risk_bucket=None, outstanding=())
    totals: dict[tuple[str, str], Decimal] = {}
    for inv in state.ledger.invoices.values():
        owed = state.ledger.balances[inv.invoice_id].outstanding
        if owed > ZERO:
            key = (aging_bucket(days_past_due(inv, state.assessed_on)), inv.currency)
            totals[key] = totals.get(key, ZERO) + owed
    return Exposure(
        risk_bucket=state.segment.risk_bucket,
        outstanding=tuple((b, c, a) for (b, c), a in sorted(totals.items())),
    )
