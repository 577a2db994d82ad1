"""The lifecycle's own outputs, beside the ladder's contacts.

Commitments kept or broken, dispute reviews, reconciliations, write-off reviews, releases and
recalls, and withdrawals of contacts that became moot.

Each is raised once (its key in `CustomerState.tasks`, or the status in `statuses`), from the
state and `today` alone, so a replay, a restart or a late wake-up raises exactly the same ones
with the same ids. Reasons are one sentence each and name the fact that shaped them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from processor.domain.collection import Sent
from processor.domain.commitments import Commitment
from processor.domain.contact import CUSTOMER_FACING, may_contact, not_before, route
from processor.domain.ids import stable_id
from processor.domain.ledger import ZERO, Invoice, Ledger
from processor.domain.outputs import ActionRequest, Cause, CommitmentStatus, Withdrawal
from processor.domain.owed import Owing
from processor.domain.plan import LedgerFacts, policy_plan
from processor.domain.policy import FollowUpRule, Policy
from processor.domain.reasons import days
from processor.domain.segmentation import Assessment
from processor.domain.state import CustomerState

_CLOSED_TEXT = {"paid": "paid in full", "credited": "credited in full", "voided": "voided"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Lifecycle:
    """What the lifecycle decided, and the memory it leaves."""

    actions: tuple[ActionRequest, ...]
    statuses: tuple[CommitmentStatus, ...]
    withdrawals: tuple[Withdrawal, ...]
    status_memory: Mapping[str, str]
    tasks: frozenset[str]
    sent: Mapping[str, Sent]


@dataclass(slots=True)
class _Context:
    state: CustomerState
    assessment: Assessment
    cause: Cause
    now: datetime
    today: date
    policy: Policy
    facts: LedgerFacts

    def action(
        self,
        kind: str,
        rule: FollowUpRule,
        key: str,
        invoices: list[Invoice],
        amount: Decimal,
        currency: str,
        reason: str,
        payment_ids: tuple[str, ...] = (),
    ) -> ActionRequest:
        """A task or a courtesy, with a stage from the oldest invoice's days past due.

        A customer-facing one goes where the customer may be reached (`contact.route`).
        """
        facts = self.facts
        oldest = max(((self.today - facts.payable_by(i)).days for i in invoices), default=0)
        way = route(rule.channel, kind, self.state, self.policy)
        if way.note is not None:
            reason += f" It is by {way.channel}, not {rule.channel}: {way.note}."
        return ActionRequest(
            event_id=stable_id("action", self.state.customer_id, rule.rule_id, key),
            action=kind,
            channel=way.channel,
            tone=rule.tone,
            stage=self.policy.stage_for(oldest),
            invoice_ids=tuple(sorted(i.invoice_id for i in invoices)),
            amount_outstanding=amount,
            currency=currency,
            segment=self.assessment.segment,
            priority=self.assessment.segment.priority,
            rule_id=rule.rule_id,
            policy_version=self.policy.version,
            reason=reason,
            caused_by=self.cause.id,
            not_before=not_before(
                way.channel, self.now, facts.calendar.zone, self.policy.contact.quiet_hours
            ),
            payment_ids=payment_ids,
        )


def lifecycle(
    before: CustomerState,
    after: CustomerState,
    facts: LedgerFacts,
    done_steps: Mapping[str, frozenset[str]],
    contacts: tuple[ActionRequest, ...],
    found: list[Commitment],
    owed: Mapping[str, Owing],
    assessment: Assessment,
    cause: Cause,
    now: datetime,
    today: date,
    policy: Policy,
) -> Lifecycle:
    """Everything the lifecycle raises on `today`, given the ladder's contacts just decided.

    `facts` are `after`'s ledger views on the customer's calendar; `done_steps` the steps
    taken, this decision's included.
    """
    ctx = _Context(after, assessment, cause, now, today, policy, facts)
    tasks = set(after.tasks)
    actions: list[ActionRequest] = []
    statuses: list[CommitmentStatus] = []
    memory: Mapping[str, str] = after.statuses
    if found:
        statuses, memory = _commitments(ctx, found, tasks, actions)
    if after.collection.disputes:
        _disputes(ctx, tasks, actions)
    if after.ledger.held:
        _reconcile(ctx, tasks, actions)
    _residues(ctx, owed, tasks, actions)
    if policy.discount_offer.remind_days_before and any(
        row.invoice.terms is not None for row in facts.open
    ):
        _discount_reminders(ctx, owed, contacts, tasks, actions)
    if assessment.credit.utilisation:
        _credit_limits(ctx, owed, tasks, actions)
    changed = before.ledger is not after.ledger
    if changed:  # only a change of the ledger settles a debt behind a hold or a referral
        _releases(ctx, done_steps, tasks, actions)
    sent, withdrawals = _sent(ctx, contacts, owed)
    return Lifecycle(
        actions=tuple(actions),
        statuses=tuple(statuses),
        withdrawals=tuple(withdrawals),
        status_memory=memory,
        tasks=frozenset(tasks),
        sent=sent,
    )


def _commitments(
    ctx: _Context, found: list[Commitment], tasks: set[str], actions: list[ActionRequest]
) -> tuple[list[CommitmentStatus], dict[str, str]]:
    state, rules = ctx.state, ctx.policy.collection
    memory = dict(state.statuses)
    statuses = []
    for c in found:
        if c.status is None or memory.get(c.commitment_id) == c.status:
            continue
        memory[c.commitment_id] = c.status
        statuses.append(
            CommitmentStatus(
                event_id=stable_id("commitment", state.customer_id, c.commitment_id, c.status),
                commitment_id=c.commitment_id,
                kind=c.kind,
                status=c.status,
                amount=c.amount,
                currency=c.currency,
                due=c.due,
                caused_by=ctx.cause.id,
            )
        )
        named = _subjects(state.ledger, c)
        what = "promise" if c.kind == "promise" else "instalment"
        label = f"{what} {c.commitment_id} ({c.amount} {c.currency} due {c.due})"
        if not named:
            continue  # its invoices are not held (yet): the status alone is published
        if c.status == "broken" and f"broken:{c.commitment_id}" not in tasks:
            tasks.add(f"broken:{c.commitment_id}")
            owing = _owed_in(state.ledger, named, c.currency)
            actions.append(
                ctx.action(
                    "promise_follow_up",
                    rules.promise_follow_up,
                    c.commitment_id,
                    named,
                    owing,
                    c.currency,
                    f"The {label} was broken: nothing covering it arrived by {c.deadline} "
                    f"({days(ctx.policy.collection.promise_grace_days)} of grace); follow up with"
                    f" the customer, {owing} {c.currency} is owed. Rule "
                    f"{rules.promise_follow_up.rule_id}.",
                )
            )
        elif c.status == "kept" and rules.thank_you_when_kept and _last_of(c, found):
            key = f"kept:{c.commitment_id.split('#', 1)[0]}"
            if key in tasks:
                continue
            tasks.add(key)
            actions.append(
                ctx.action(
                    "thank_you",
                    rules.commitment_kept,
                    c.commitment_id,
                    named,
                    _owed_in(state.ledger, named, c.currency),
                    c.currency,
                    f"The {label} was kept; thank the customer. Rule "
                    f"{rules.commitment_kept.rule_id}.",
                )
            )
    return statuses, memory


def _last_of(c: Commitment, found: list[Commitment]) -> bool:
    """A promise, or a plan's last instalment (a plan is thanked once, when it is complete)."""
    if c.kind == "promise":
        return True
    plan = c.commitment_id.split("#", 1)[0]
    return all(o.status == "kept" for o in found if o.commitment_id.split("#", 1)[0] == plan)


def _owed_in(ledger: Ledger, invoices: list[Invoice], currency: str) -> Decimal:
    if invoices:
        return sum((ledger.balances[i.invoice_id].outstanding for i in invoices), ZERO)
    return ledger.outstanding_by_currency().get(currency, ZERO)


def _subjects(ledger: Ledger, c: Commitment) -> list[Invoice]:
    """The invoices a commitment is about.

    Those it names; else those of its currency that are open, or were settled since it was made
    (what its payments went to).
    """
    invoices = ledger.invoices
    if c.invoice_ids:
        return [invoices[i] for i in c.invoice_ids if i in invoices]
    found = [i for i in ledger.open_invoices() if i.currency == c.currency]
    if not found:
        found = sorted(
            (
                i
                for i in invoices.values()
                if i.currency == c.currency
                and (settled := ledger.balances[i.invoice_id].settled_on) is not None
                and settled >= c.since
            ),
            key=lambda i: i.invoice_id,
        )
    return found[:50]


def _disputes(ctx: _Context, tasks: set[str], actions: list[ActionRequest]) -> None:
    state, rules = ctx.state, ctx.policy.collection
    ledger = state.ledger
    for dispute in sorted(state.collection.disputes.values(), key=lambda d: d.dispute_id):
        invoice = None if dispute.invoice_id is None else ledger.invoices.get(dispute.invoice_id)
        if invoice is None or not dispute.is_open() or dispute.opened_on is None:
            continue
        owed = ledger.balances[invoice.invoice_id].outstanding
        if owed <= ZERO:
            continue  # settled meanwhile: nothing is held back by it
        part = owed if dispute.amount is None else min(dispute.amount, owed)
        why = f" ({dispute.reason})" if dispute.reason else ""
        subject = (
            f"Dispute {dispute.dispute_id}{why} on invoice {invoice.invoice_id} "
            f"({part} {invoice.currency} disputed), opened {dispute.opened_on}"
        )
        opened_key = f"dispute:{dispute.dispute_id}"
        if opened_key not in tasks:
            tasks.add(opened_key)
            actions.append(
                ctx.action(
                    "dispute_review",
                    rules.dispute_review,
                    dispute.dispute_id,
                    [invoice],
                    part,
                    invoice.currency,
                    f"{subject}: the disputed part is not chased until it is resolved; review it."
                    f" Rule {rules.dispute_review.rule_id}.",
                )
            )
        overdue_on = dispute.opened_on + timedelta(days=rules.dispute_review_days)
        overdue_key = f"dispute-overdue:{dispute.dispute_id}"
        if ctx.today >= overdue_on and overdue_key not in tasks:
            tasks.add(overdue_key)
            actions.append(
                ctx.action(
                    "dispute_review",
                    rules.dispute_overdue,
                    f"{dispute.dispute_id}:overdue",
                    [invoice],
                    part,
                    invoice.currency,
                    f"{subject}, is still open after {days(rules.dispute_review_days)} (the "
                    f"policy's review time); resolve it. Rule {rules.dispute_overdue.rule_id}.",
                )
            )


def _reconcile(ctx: _Context, tasks: set[str], actions: list[ActionRequest]) -> None:
    """Cash that could not be applied for `reconcile_after_days` raises one reconcile task."""
    state, rule = ctx.state, ctx.policy.collection.reconcile_payment
    ledger = state.ledger
    wait = timedelta(days=ctx.policy.collection.reconcile_after_days)
    for item in ledger.unapplied():
        key = f"reconcile:{item.source}:{item.source_id}"
        if key in tasks or ctx.today < item.received_on + wait:
            continue
        tasks.add(key)
        target = None if item.invoice_id is None else ledger.invoices.get(item.invoice_id)
        if target is None:
            problem = f"names invoice {item.invoice_id}, which this customer does not have"
        else:
            problem = f"names invoice {item.invoice_id}, which is in {target.currency}"
        what = "Payment" if item.source == "payment" else "Credit note"
        action = ctx.action(
            "reconcile_payment",
            rule,
            f"{item.source}:{item.source_id}",
            [target] if target is not None else [],
            item.amount,
            item.currency,
            f"{what} {item.source_id} ({item.amount} {item.currency}, {item.received_on}) "
            f"{problem}: it is kept as the customer's unapplied cash; match it to the right "
            f"invoice. Rule {rule.rule_id}.",
            payment_ids=(item.source_id,),
        )
        if target is None and item.invoice_id is not None:
            action = replace(action, invoice_ids=(item.invoice_id,))
        actions.append(action)


def _residues(
    ctx: _Context, owed: Mapping[str, Owing], tasks: set[str], actions: list[ActionRequest]
) -> None:
    state, rules = ctx.state, ctx.policy.collection
    invoices = state.ledger.invoices
    for invoice_id in sorted(owed):
        o = owed[invoice_id]
        key = f"residue:{invoice_id}"
        invoice = invoices[invoice_id]
        if not o.residue or key in tasks or ctx.today <= ctx.facts.payable_by(invoice):
            continue
        tasks.add(key)
        tolerance = rules.tolerance_for(invoice.currency)
        actions.append(
            ctx.action(
                "write_off_review",
                rules.write_off_review,
                invoice_id,
                [invoice],
                o.outstanding,
                invoice.currency,
                f"Invoice {invoice_id} has {o.outstanding} {invoice.currency} left, below the "
                f"{invoice.currency} tolerance of {tolerance}: it is not chased or aged; review "
                f"it for a small-balance write-off. Rule {rules.write_off_review.rule_id}.",
            )
        )


def _discount_reminders(
    ctx: _Context,
    owed: Mapping[str, Owing],
    contacts: tuple[ActionRequest, ...],
    tasks: set[str],
    actions: list[ActionRequest],
) -> None:
    """A reminder while an invoice's early-payment discount is still open, once per invoice.

    From `remind_days_before` days before the window closes, for the customers the policy offers
    discounts to, on invoices that may be chased; none when a ladder reminder already carries
    the offer, or when the customer cannot be reached (a courtesy is not worth a task). It is a
    contact like any other: it waits for its channel's cooldown, and starts a new one.
    """
    rules, state = ctx.policy.discount_offer, ctx.state
    if not rules.offered_to(state.customer_id, ctx.assessment.segment.value_tier):
        return
    channel = route(rules.reminder.channel, "reminder", state, ctx.policy).channel
    if channel not in CUSTOMER_FACING:
        return
    if not may_contact(channel, ctx.today, state.last_contact, ctx.policy.contact) or any(
        a.channel == channel for a in contacts
    ):
        return  # the channel's cooldown holds it (a wake-up comes when it ends)
    covered = {
        i
        for a in contacts
        if a.action == "reminder" and a.stage == "preventive"
        for i in a.invoice_ids
    }
    due: dict[str, list[Invoice]] = {}
    closes: dict[str, date] = {}
    for row in ctx.facts.open:
        invoice, key = row.invoice, f"discount:{row.invoice.invoice_id}"
        until = None if invoice.terms is None else invoice.terms.discount_until(invoice.issued_on)
        o = owed.get(invoice.invoice_id)
        if until is None or key in tasks or o is None or o.paused or o.chaseable <= ZERO:
            continue
        if not until - timedelta(days=rules.remind_days_before) <= ctx.today <= until:
            continue
        tasks.add(key)
        if invoice.invoice_id not in covered:
            due.setdefault(invoice.currency, []).append(invoice)
            closes[invoice.currency] = min(until, closes.get(invoice.currency, until))
    if not due:
        return
    for currency, invoices in sorted(due.items()):
        ids = [i.invoice_id for i in invoices]
        amount = sum((owed[i].chaseable for i in ids), ZERO)
        actions.append(
            ctx.action(
                "reminder",
                rules.reminder,
                "+".join(ids),
                invoices,
                amount,
                currency,
                f"{_invoices_text(ids)} may still be paid with the early-payment discount of "
                f"its terms until {closes[currency]}: a reminder "
                f"{days(rules.remind_days_before)} before the window closes. "
                f"Rule {rules.reminder.rule_id}.",
            )
        )


def _invoices_text(ids: list[str]) -> str:
    return f"Invoice {ids[0]}" if len(ids) == 1 else f"Invoices {', '.join(ids)}"


def _credit_limits(
    ctx: _Context, owed: Mapping[str, Owing], tasks: set[str], actions: list[ActionRequest]
) -> None:
    """Owing more than the credit limit raises a credit hold at once; back under, its release.

    The hold names the invoices of the currency that may be chased (nothing is held against
    what is disputed, promised or on hold): while there are none, it waits. The release names
    the currency's open invoices, or the latest one when all are settled.
    """
    rules, collection = ctx.policy.risk.utilisation, ctx.policy.collection
    if not rules.hold_when_over:
        return
    for currency, owing, limit in ctx.assessment.credit.utilisation:
        key = f"credit-limit:{currency}"
        over = owing > limit
        if over == (key in tasks):
            continue
        rows = [r for r in ctx.facts.open if r.invoice.currency == currency]
        if over:
            chased = [
                (r.invoice, o.chaseable)
                for r in rows
                if (o := owed.get(r.invoice.invoice_id)) is not None and o.chaseable > ZERO
            ]
            if not chased:
                continue
            tasks.add(key)
            invoices = [invoice for invoice, _ in chased]
            amount = sum((a for _, a in chased), ZERO)
            rule, kind = collection.credit_limit_hold, "credit_hold"
            reason = (
                f"The customer owes {owing} {currency}, over its credit limit of {limit} "
                f"{currency} by {owing - limit}: hold further credit until it is back under. "
                f"Rule {rule.rule_id}."
            )
        else:
            tasks.discard(key)
            invoices = [r.invoice for r in rows] or _latest(ctx.state.ledger, currency)
            if not invoices:
                continue
            amount = owing
            rule, kind = collection.credit_limit_release, "credit_hold_release"
            reason = (
                f"The customer owes {owing} {currency}, within its credit limit of {limit} "
                f"{currency} again: release the hold on further credit. Rule {rule.rule_id}."
            )
        actions.append(
            ctx.action(kind, rule, f"{currency}:{ctx.cause.id}", invoices, amount, currency, reason)
        )


def _latest(ledger: Ledger, currency: str) -> list[Invoice]:
    """The most recently issued invoice of a currency (a release must name one)."""
    found = [i for i in ledger.invoices.values() if i.currency == currency]
    return [max(found, key=lambda i: (i.issued_on, i.invoice_id))] if found else []


def _releases(
    ctx: _Context,
    done_steps: Mapping[str, frozenset[str]],
    tasks: set[str],
    actions: list[ActionRequest],
) -> None:
    """A credit hold or agency referral whose debt is now settled is released or recalled."""
    state, rules = ctx.state, ctx.policy.collection
    plan = policy_plan(ctx.policy)
    ledger = state.ledger
    wanted = []
    if rules.release_credit_hold:
        wanted.append(("credit_hold", "credit_hold_release", rules.credit_hold_release))
    if rules.recall_agency:
        wanted.append(("agency_referral", "agency_recall", rules.agency_recall))
    for taken, kind, rule in wanted:
        settled: dict[str, list[Invoice]] = {}
        closed_how: dict[str, str] = {}
        for invoice_id, done in done_steps.items():
            balance = ledger.balances.get(invoice_id)
            if balance is None or not balance.is_paid or balance.closed_by == "written_off":
                continue
            if not any(plan.actions.get(step) == taken for step in done):
                continue
            key = f"{kind}:{invoice_id}"
            if key in tasks:
                continue
            tasks.add(key)
            invoice = ledger.invoices[invoice_id]
            settled.setdefault(invoice.currency, []).append(invoice)
            closed_how[invoice_id] = _CLOSED_TEXT.get(balance.closed_by or "paid", "settled")
        for currency, group in sorted(settled.items()):
            group.sort(key=lambda i: i.invoice_id)
            names = ", ".join(f"{i.invoice_id} ({closed_how[i.invoice_id]})" for i in group)
            what = "credit hold" if taken == "credit_hold" else "agency referral"
            still = [
                i.invoice_id
                for i in ledger.open_invoices()
                if any(plan.actions.get(s) == taken for s in done_steps.get(i.invoice_id, ()))
            ]
            rest = f"; still open under it: {', '.join(still)}" if still else ""
            actions.append(
                ctx.action(
                    kind,
                    rule,
                    ",".join(i.invoice_id for i in group),
                    group,
                    ZERO,
                    currency,
                    f"The debt behind the {what} is settled: invoice{'s' if len(group) > 1 else ''}"
                    f" {names}{rest}. Rule {rule.rule_id}.",
                )
            )


def _sent(
    ctx: _Context,
    contacts: tuple[ActionRequest, ...],
    owed: Mapping[str, Owing],
) -> tuple[Mapping[str, Sent], list[Withdrawal]]:
    """Remember the contacts just decided; withdraw those still ahead that became moot.

    Any fact can make a contact moot (a payment, a dispute, a hold), so the contacts still
    ahead are checked on every decision that has any.
    """
    state = ctx.state
    ledger = state.ledger
    plan = policy_plan(ctx.policy)
    held = state.collection.sent
    if not contacts and not any(_ahead(item, ctx.now) for item in held.values()):
        return held, []
    sent = dict(held)
    withdrawals = []
    for event_id, item in sorted(sent.items()):
        if item.not_before is None or item.not_before <= ctx.now:
            continue
        live = [
            i for i in item.invoice_ids if (o := owed.get(i)) is not None and o.chaseable > ZERO
        ]
        way = route(item.channel, item.action, state, ctx.policy)
        if live and way.note is None:
            continue
        if live:
            why = way.note or ""
        else:
            why = "; ".join(_moot(ledger, owed, i) for i in item.invoice_ids)
        withdrawals.append(
            Withdrawal(
                event_id=stable_id("withdrawal", state.customer_id, event_id),
                withdraws=event_id,
                invoice_ids=item.invoice_ids,
                reason=f"Withdraw the {item.action.replace('_', ' ')} by {item.channel} due at "
                f"{item.not_before.isoformat()}: {why}"
                + (", so nothing it asks for is owed now." if not live else "."),
                caused_by=ctx.cause.id,
            )
        )
        sent[event_id] = Sent(
            action=item.action,
            channel=item.channel,
            rule_id=item.rule_id,
            invoice_ids=item.invoice_ids,
            offset=item.offset,
            not_before=None,
        )
    for action in contacts:
        if action.channel in CUSTOMER_FACING:
            rung = plan.rungs.get(action.rule_id)
            sent[action.event_id] = Sent(
                action=action.action,
                channel=action.channel,
                rule_id=action.rule_id,
                invoice_ids=action.invoice_ids,
                offset=None if rung is None else rung[0],
                not_before=action.not_before,
            )
    return _recent(sent, ctx.now), withdrawals


# Contacts remembered for an outcome report (a bounce, a customer reached): the last few, and
# every one still ahead (it may have to be withdrawn). An outcome for an older one is ignored.
_CONTACTS_KEPT = 3


def _ahead(item: Sent, now: datetime) -> bool:
    return item.not_before is not None and item.not_before > now


def _recent(sent: Mapping[str, Sent], now: datetime) -> dict[str, Sent]:
    """The contacts worth remembering: still ahead, or among the last few (in sending order)."""
    if len(sent) <= _CONTACTS_KEPT:
        return dict(sent)
    last = set(list(sent)[-_CONTACTS_KEPT:])
    return {k: v for k, v in sent.items() if k in last or _ahead(v, now)}


def _moot(ledger: Ledger, owed: Mapping[str, Owing], invoice_id: str) -> str:
    balance = ledger.balances.get(invoice_id)
    if balance is None:
        return f"invoice {invoice_id} is no longer held"
    if balance.is_paid:
        how = _CLOSED_TEXT.get(balance.closed_by or "paid", "written off")
        return f"invoice {invoice_id} is {how}"
    o = owed.get(invoice_id)
    paused = ", ".join(o.paused) if o is not None and o.paused else "not to be chased"
    return f"invoice {invoice_id} is {paused}"
