"""Segmentation: aging bucket, behaviour class, value tier, risk, delinquency type, priority.

Each is a function of the customer's state, `today` (on the customer's calendar) and the policy,
so the same facts on the same day always give the same segment. Risk follows the money
(semantics 12): the amount past due, against the currency's value-tier thresholds and the
customer's credit limit, weighs as much as the days late; behaviour counts what is unpaid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from processor.domain.calendar import Calendar
from processor.domain.commitments import Commitment, broken_in_window
from processor.domain.ledger import ZERO, Invoice, Ledger
from processor.domain.memo import IdentityMemo
from processor.domain.plan import LedgerFacts, ledger_facts, policy_plan
from processor.domain.policy import (
    AGING_EDGES,
    STAKE_LEVELS,
    BehaviorPolicy,
    Policy,
    RiskPolicy,
    TierThreshold,
    ValueTierPolicy,
)
from processor.domain.profile import CUSTOMER_FACING
from processor.domain.state import CustomerState, Segment


@dataclass(frozen=True, slots=True, kw_only=True)
class BehaviorFigures:
    """Payment history over the behaviour window, and what is unpaid past due today.

    An unpaid invoice more than `unpaid_late_after_days` past due counts as late by its days so
    far: a customer who pays nothing is not `new`, and three invoices 90 days unpaid are not on
    time.
    """

    paid_invoices: int
    late_invoices: int
    average_days_late: Decimal
    max_days_late: int
    broken_commitments: int = 0
    unpaid_late: int = 0

    @property
    def counted(self) -> int:
        """Invoices the class is judged on: paid in the window, and unpaid past due."""
        return self.paid_invoices + self.unpaid_late

    @property
    def late_share(self) -> Decimal:
        """Late (paid late or unpaid past due) / counted (0 with no history)."""
        if self.counted == 0:
            return ZERO
        return Decimal(self.late_invoices + self.unpaid_late) / Decimal(self.counted)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """The customer's credit standing: what it owes against its limits, and its score."""

    # (currency, owed, limit) of every currency with a limit, by currency.
    utilisation: tuple[tuple[str, Decimal, Decimal], ...] = ()
    score: int | None = None

    @property
    def over_limit(self) -> tuple[str, ...]:
        """Currencies the customer owes more than its limit in."""
        return tuple(c for c, owed, limit in self.utilisation if owed > limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """A segment plus the figures behind it, for reasons a collector can read."""

    segment: Segment
    oldest_unpaid: Invoice | None
    days_past_due: int
    figures: BehaviorFigures
    risk_score: int
    # How much is past due against the value-tier thresholds (`STAKE_LEVELS`), and in which
    # currency the largest stake is (None: nothing past due).
    stake: str = "minor"
    stake_amount: tuple[Decimal, str] | None = None
    credit: Credit = field(default_factory=Credit)
    # The risk points by what earned them (reasons name the largest).
    points: tuple[tuple[str, int], ...] = ()
    # Why the delinquency type is what it is (None: not delinquent).
    delinquency_reason: str | None = None
    # The risk bucket whose ladder applies (the delinquency type's approach may pick another).
    ladder: str = "low"
    customer_type: str | None = None  # the profile's (enterprise, smb, ...), for reasons


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


def aging_bucket(days: int) -> str:
    """The contract's aging bucket for a number of days past due."""
    for upper, name in AGING_EDGES:
        if days <= upper:
            return name
    return "120+"


def _figures(
    facts: LedgerFacts, today: int, policy: BehaviorPolicy, residue: ResidueTest
) -> BehaviorFigures:
    since = today - policy.window_days
    paid = 0
    late = []
    tolerance = policy.late_tolerance_days
    for settled, days_late in facts.settlements:
        if since < settled <= today:
            paid += 1
            if days_late > tolerance:
                late.append(days_late)
    late_paid = len(late)
    unpaid_after = policy.unpaid_late_after_days
    for row in facts.open:
        if (
            row.outstanding > ZERO
            and today - row.due > unpaid_after
            and not residue(row.outstanding, row.invoice.currency)
        ):
            late.append(today - row.due)
    average = ZERO
    if late:
        average = (Decimal(sum(late)) / Decimal(len(late))).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    return BehaviorFigures(
        paid_invoices=paid,
        late_invoices=late_paid,
        average_days_late=average,
        max_days_late=max(late, default=0),
        unpaid_late=len(late) - late_paid,
    )


def behavior_class(
    figures: BehaviorFigures, policy: BehaviorPolicy, habitual_broken: int = 2
) -> str:
    """New / on_time / occasionally_late / habitually_late.

    Broken promises count against it; a single late invoice in a long history is a one-off; a
    high late share makes `habitually_late` only when the delays are more than a few days
    (paying a day late every time is occasionally late).
    """
    broken = figures.broken_commitments
    if broken >= habitual_broken:
        return "habitually_late"
    if figures.counted < policy.min_paid_invoices:
        return "occasionally_late" if broken else "new"
    share = figures.late_share
    late = figures.late_invoices + figures.unpaid_late
    one_off = late == 1 and figures.counted >= policy.one_off_from_invoices
    if share <= policy.on_time_max_late_share or one_off:
        return "occasionally_late" if broken else "on_time"
    average = figures.average_days_late
    if average >= policy.habitual_min_avg_days_late or (
        share >= policy.habitual_min_late_share and average >= policy.habitual_frequent_min_avg_days
    ):
        return "habitually_late"
    return "occasionally_late"


# Thresholds per value-tier policy and currency: one converted from the reporting currency
# is worked out (and a model built) once, not in every assessment.
_thresholds: IdentityMemo[ValueTierPolicy, dict[str, TierThreshold | None]] = IdentityMemo(
    lambda policy: {}
)


def threshold_in(currency: str, policy: ValueTierPolicy) -> TierThreshold | None:
    """`policy.threshold_for(currency)`, looked up once per policy and currency."""
    known = _thresholds(policy)
    if currency in known:
        return known[currency]
    found = known[currency] = policy.threshold_for(currency)
    return found


def _tier(facts: LedgerFacts, today: int, policy: ValueTierPolicy) -> str:
    tier = "small"
    for currency, total in _invoiced(facts, today, policy.window_days).items():
        threshold = threshold_in(currency, policy)
        if threshold is None:
            continue
        if total >= threshold.key:
            return "key"
        if total >= threshold.mid:
            tier = "mid"
    return tier


def _invoiced(facts: LedgerFacts, today: int, window: int) -> dict[str, Decimal]:
    since = today - window
    invoiced: dict[str, Decimal] = {}
    for issued, currency, amount in facts.invoiced:
        if since < issued <= today:
            invoiced[currency] = invoiced.get(currency, ZERO) + amount
    return invoiced


def stake_level(amount: Decimal, currency: str, policy: ValueTierPolicy) -> str:
    """How large a past-due amount is against its currency's value-tier thresholds."""
    threshold = threshold_in(currency, policy)
    if threshold is None or amount <= ZERO:
        return "minor"
    if amount >= threshold.key:
        return "key"
    if amount >= threshold.mid:
        return "mid"
    if amount >= threshold.mid * policy.small_stake_share:
        return "small"
    return "minor"


def _past_due(facts: LedgerFacts, day: int, residue: ResidueTest) -> dict[str, Decimal]:
    """Past-due outstanding per currency (residues left out)."""
    totals: dict[str, Decimal] = {}
    for row in facts.open:
        currency = row.invoice.currency
        if row.due < day and row.outstanding > ZERO and not residue(row.outstanding, currency):
            totals[currency] = totals.get(currency, ZERO) + row.outstanding
    return totals


def _stake(past_due: dict[str, Decimal], policy: ValueTierPolicy) -> tuple[str, Decimal, str]:
    """The largest stake over currencies: (level, amount, currency)."""
    best = ("minor", ZERO, "")
    for currency in sorted(past_due):
        amount = past_due[currency]
        level = stake_level(amount, currency, policy)
        if STAKE_LEVELS.index(level) > STAKE_LEVELS.index(best[0]) or not best[2]:
            best = (level, amount, currency)
    return best


def _credit(state: CustomerState, facts: LedgerFacts) -> Credit:
    profile = state.profile
    score = profile.credit_score.score if profile.credit_score is not None else None
    limits = profile.credit_limit
    if not limits:
        return Credit(score=score)
    rows = tuple(
        (currency, facts.owed.get(currency, ZERO), limit)
        for currency, limit in sorted(limits.items())
    )
    return Credit(utilisation=rows, score=score)


def _utilisation_points(credit: Credit, policy: RiskPolicy) -> int:
    rules = policy.utilisation
    points = 0
    for _currency, owed, limit in credit.utilisation:
        if owed > limit:
            return rules.over_points
        if owed > ZERO and owed >= limit * rules.near_share:
            points = rules.near_points
    return points


def _score_points(credit: Credit, policy: RiskPolicy) -> int:
    if credit.score is None:
        return 0
    rules = policy.credit_score
    if credit.score < rules.poor_below:
        return rules.poor_points
    if credit.score < rules.fair_below:
        return rules.fair_points
    return 0


def _disputes_in_window(state: CustomerState, day: int, window: int) -> tuple[int, int]:
    """(disputes opened, disputes rejected) in the behaviour window."""
    opened = rejected = 0
    since = day - window
    for dispute in state.collection.disputes.values():
        if dispute.opened_on is not None and since < dispute.opened_on.toordinal() <= day:
            opened += 1
        if (
            dispute.outcome == "rejected"
            and dispute.resolved_on is not None
            and since < dispute.resolved_on.toordinal() <= day
        ):
            rejected += 1
    return opened, rejected


def assess(ledger: Ledger, today: date, policy: Policy) -> Assessment:
    """The segment on `today` of a customer with only this ledger (no profile, no lifecycle)."""
    state = CustomerState(customer_id="", ledger=ledger)
    return assessed(state, ledger_facts(ledger), today, policy)


def assessed(
    state: CustomerState,
    facts: LedgerFacts,
    today: date,
    policy: Policy,
    found: Sequence[Commitment] = (),
) -> Assessment:
    """The customer's segment on `today`, with the figures that produced it.

    `facts` are the ledger's views on the customer's calendar; `found` its commitments. A
    residue below the currency's tolerance is not aged: the oldest invoice that counts is the
    oldest one owing more.
    """
    day = today.toordinal()
    residue = residue_test(policy)
    aged = next((r for r in facts.open if not residue(r.outstanding, r.invoice.currency)), None)
    oldest = aged.invoice if aged is not None else None
    overdue_days = day - aged.due if aged is not None else 0
    aging = aging_bucket(overdue_days)
    figures = _figures(facts, day, policy.behavior, residue)
    broken = broken_in_window(list(found), today, policy.behavior.window_days) if found else 0
    if broken:
        figures = replace(figures, broken_commitments=broken)
    collection = policy.collection
    behavior = behavior_class(figures, policy.behavior, collection.habitual_broken_commitments)
    tier = _tier(facts, day, policy.value_tier)
    past_due = _past_due(facts, day, residue)
    stake, stake_amount, stake_currency = _stake(past_due, policy.value_tier)
    credit = _credit(state, facts)
    disputes, rejected = _disputes_in_window(state, day, policy.behavior.window_days)
    risk_rules = policy.risk
    points = (
        ("days late", risk_rules.aging_points[aging]),
        ("behaviour", risk_rules.behavior_points[behavior]),
        ("amount past due", risk_rules.stake_points[stake]),
        ("credit limit use", _utilisation_points(credit, risk_rules)),
        ("credit score", _score_points(credit, risk_rules)),
        (
            "repeated disputes",
            risk_rules.repeated_disputes_points
            if disputes >= risk_rules.repeated_disputes_from
            else 0,
        ),
        ("broken promises", broken * collection.broken_commitment_risk_points),
    )
    score = min(100, sum(p for _, p in points))
    if score >= risk_rules.high_from:
        risk = "high"
    elif score >= risk_rules.medium_from:
        risk = "medium"
    else:
        risk = "low"
    kind, why = delinquency(
        state, facts, figures, past_due, overdue_days, broken, rejected, day, policy
    )
    priority = 0
    if overdue_days > 0:
        rules = policy.priority
        raw = (
            Decimal(rules.stake_points[stake] + rules.aging_points[aging])
            + Decimal(score) * rules.risk_weight
            + (
                rules.promise_due_points
                if any(c.due == today and c.status is None for c in found)
                else 0
            )
        )
        priority = max(1, min(100, int(raw.to_integral_value(rounding=ROUND_HALF_UP))))
    segment = Segment(
        aging_bucket=aging,
        behavior=behavior,
        value_tier=tier,
        risk_bucket=risk,
        delinquency_type=kind,
        priority=priority,
    )
    approach = policy.delinquency.approach_for(kind).ladder
    return Assessment(
        segment=segment,
        oldest_unpaid=oldest,
        days_past_due=overdue_days,
        figures=figures,
        risk_score=score,
        stake=stake,
        stake_amount=(stake_amount, stake_currency) if stake_currency else None,
        credit=credit,
        points=tuple(p for p in points if p[1]),
        delinquency_reason=why,
        ladder=risk if approach == "risk" else approach,
        customer_type=state.profile.customer_type,
    )


def ladder_bucket(segment: Segment, policy: Policy) -> str:
    """Whose ladder a customer in `segment` follows (its delinquency type's approach)."""
    approach = policy.delinquency.approach_for(segment.delinquency_type).ladder
    return segment.risk_bucket if approach == "risk" else approach


def delinquency(
    state: CustomerState,
    facts: LedgerFacts,
    figures: BehaviorFigures,
    past_due: dict[str, Decimal],
    overdue_days: int,
    broken: int,
    rejected: int,
    day: int,
    policy: Policy,
) -> tuple[str, str | None]:
    """The customer's delinquency type (`DELINQUENCY_TYPES`) and why; the first that fits wins."""
    if overdue_days <= 0:
        return "none", None
    rules = policy.delinquency
    if broken >= rules.strategic_min_broken_commitments:
        return "strategic", f"{broken} promises or instalments broken"
    if rejected >= rules.strategic_min_rejected_disputes:
        return "strategic", f"{rejected} disputes rejected"
    ignored = _ignored_contacts(state, facts, day, policy)
    if ignored >= rules.strategic_min_ignored_contacts:
        return "strategic", f"{ignored} contacts about one invoice ignored (nothing paid, no reply)"
    distressed = _distress(state, facts, past_due, day, policy)
    if distressed is not None:
        return "distressed", distressed
    history = figures.counted >= policy.behavior.min_paid_invoices
    if history and figures.late_share >= rules.disorganized_min_late_share:
        late = figures.late_invoices + figures.unpaid_late
        return "disorganized", (
            f"{late} of {figures.counted} invoices late, average {figures.average_days_late} days"
        )
    reminded = _reminded_then_paid(state, day, policy)
    if reminded >= rules.disorganized_min_reminded_paid:
        return "disorganized", f"{reminded} invoices paid only after a contact"
    return "accidental", "a reliable payer's first delay" if history else "little history yet"


def _distress(
    state: CustomerState,
    facts: LedgerFacts,
    past_due: dict[str, Decimal],
    day: int,
    policy: Policy,
) -> str | None:
    rules = policy.delinquency
    collection = state.collection
    if rules.distressed_when_on_plan and any(
        f"{plan.plan_id}#{len(plan.instalments)}" not in state.statuses
        for plan in collection.plans.values()
    ):
        return "on a payment plan"
    balances = state.ledger.balances
    partly = sum(
        1 for row in facts.open if row.due < day and balances[row.invoice.invoice_id].paid > ZERO
    )
    if partly >= rules.distressed_min_partly_paid:
        return f"{partly} past-due invoices paid in part"
    overdue_invoices = sum(1 for row in facts.open if row.due < day and row.outstanding > ZERO)
    if overdue_invoices >= 2:
        invoiced = _invoiced(facts, day, policy.value_tier.window_days)
        for currency in sorted(past_due):
            total = invoiced.get(currency, ZERO)
            if total > ZERO and past_due[currency] / total >= rules.distressed_min_overdue_share:
                share = (past_due[currency] / total * 100).quantize(Decimal(1))
                return f"{share}% of its {currency} business this year past due"
    return None


def _ignored_contacts(state: CustomerState, facts: LedgerFacts, day: int, policy: Policy) -> int:
    """Most delinquency contacts about one past-due invoice that the customer ignored.

    Ignored: customer-facing, nothing paid on the invoice, no reply or answer about it, and no
    payment from the customer at all since the first of them (a customer who pays other
    invoices meanwhile is slow, not ignoring).
    """
    done_steps = state.done_steps
    if not done_steps:
        return 0
    rungs = policy_plan(policy).rungs
    reached = state.collection.reached
    ledger = state.ledger
    balances = ledger.balances
    last_paid = max((p.received_on for p in ledger.payments.values()), default=None)
    most = 0
    for row in facts.open:
        invoice_id = row.invoice.invoice_id
        done = done_steps.get(invoice_id)
        first = state.first_contact.get(invoice_id)
        if not done or first is None or row.due >= day or invoice_id in reached:
            continue
        if balances[invoice_id].paid > ZERO or (last_paid is not None and last_paid >= first):
            continue
        most = max(most, sum(1 for step in done if _chasing(rungs.get(step))))
    return most


def _facing(rung: tuple[int, str] | None) -> bool:
    return rung is not None and rung[1] in CUSTOMER_FACING


def _chasing(rung: tuple[int, str] | None) -> bool:
    """A customer-facing rung after the due date."""
    return rung is not None and rung[0] > 0 and rung[1] in CUSTOMER_FACING


def _reminded_then_paid(state: CustomerState, day: int, policy: Policy) -> int:
    """Invoices paid in the window after a customer-facing contact about them."""
    balances = state.ledger.balances
    rungs = policy_plan(policy).rungs
    since = day - policy.behavior.window_days
    count = 0
    for invoice_id, done in state.done_steps.items():
        balance = balances.get(invoice_id)
        if balance is None or balance.closed_by != "paid" or balance.settled_on is None:
            continue
        if since < balance.settled_on.toordinal() <= day and any(
            _facing(rungs.get(step)) for step in done
        ):
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class Exposure:
    """What one customer adds to portfolio totals: its risk bucket and open amounts by aging."""

    risk_bucket: str | None
    outstanding: tuple[tuple[str, str, Decimal], ...]  # (aging bucket, currency, amount)


def exposure(state: CustomerState, calendar: Calendar) -> Exposure:
    """The customer's contribution as of its last assessment (each open invoice in its bucket).

    `calendar` is the customer's (`calendar.customer_calendar`): invoices age from the day they
    are payable by.
    """
    if state.segment is None or state.assessed_on is None:
        return Exposure(risk_bucket=None, outstanding=())
    facts = ledger_facts(state.ledger, calendar)
    day = state.assessed_on.toordinal()
    totals: dict[tuple[str, str], Decimal] = {}
    for row in facts.open:
        owed = row.outstanding
        if owed > ZERO:
            key = (aging_bucket(day - row.due), row.invoice.currency)
            totals[key] = totals.get(key, ZERO) + owed
    return Exposure(
        risk_bucket=state.segment.risk_bucket,
        outstanding=tuple((b, c, a) for (b, c), a in sorted(totals.items())),
    )
