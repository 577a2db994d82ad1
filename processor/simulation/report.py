"""The what-if report: one policy's figures, or two side by side, as a plain-text table."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from processor.domain.policy import DELINQUENCY_TYPES, RISK_BUCKETS

ACTIONS = (
    "reminder",
    "call_task",
    "payment_plan_offer",
    "credit_hold",
    "agency_referral",
    "thank_you",
)
# The lifecycle's tasks (contract 1.1), counted over every risk bucket.
TASKS = (
    "dispute_review",
    "reconcile_payment",
    "promise_follow_up",
    "write_off_review",
    "credit_hold_release",
    "agency_recall",
)
COMMITMENTS = ("promise kept", "promise broken", "instalment kept", "instalment broken")


def rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of one summary, in report order."""
    lines: list[tuple[str, str]] = [
        ("policy version", str(summary["policy_version"])),
        ("simulated until", str(summary["horizon"])),
        ("events read", str(summary["events"])),
        ("  dead letters", str(summary["dead_letters"])),
        ("customers", str(summary["customers"])),
        ("late flags", str(summary["late_flags"])),
        ("segment changes", str(summary["segment_changes"])),
        ("actions", str(summary["actions"])),
    ]
    for bucket in RISK_BUCKETS:
        counts = summary["actions_by_segment"][bucket]
        lines.append((f"  {bucket} risk", str(sum(counts.values()))))
        lines += [(f"    {bucket}: {action}", str(counts.get(action, 0))) for action in ACTIONS]
    tasks = {t: sum(c.get(t, 0) for c in summary["actions_by_segment"].values()) for t in TASKS}
    lines.append(("  lifecycle tasks", str(sum(tasks.values()))))
    lines += [(f"    {task}", str(n)) for task, n in tasks.items()]
    lines.append(("  withdrawn before their not_before", str(summary.get("withdrawn", 0))))
    commitments = summary.get("commitments", {})
    lines += [(f"  {c}", str(commitments.get(c, 0))) for c in COMMITMENTS]
    for stage, count in summary["actions_by_stage"].items():
        lines.append((f"  stage {stage}", str(count)))
    contacts = summary["contacts_per_customer"]
    lines += [
        ("contacts per customer (mean)", str(contacts["mean"])),
        ("contacts per customer (max)", str(contacts["max"])),
        ("customers never contacted", str(contacts["none"])),
        ("customers ending in risk bucket", ""),
    ]
    lines += [(f"  {b}", str(n)) for b, n in summary["final_risk_buckets"].items()]
    types = summary.get("final_delinquency_types", {})
    lines.append(("customers ending as delinquency type", ""))
    lines += [(f"  {kind}", str(types.get(kind, 0))) for kind in DELINQUENCY_TYPES]
    by_type = summary.get("actions_by_delinquency_type", {})
    lines.append(("actions by the customer's delinquency type", ""))
    lines += [(f"  actions, {kind}", str(by_type.get(kind, 0))) for kind in DELINQUENCY_TYPES]
    return lines + money_rows(summary)


def money_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Cash and when, referrals, discounts, offers and late fees (one row per currency)."""
    lines: list[tuple[str, str]] = [("cash collected, by month received", "")]
    for month, amounts in summary.get("cash_collected_by_month", {}).items():
        lines += [(f"  {month} {currency}", amount) for currency, amount in amounts.items()]
    for label, key in (
        ("referred to agencies", "referred_to_agency"),
        ("early-payment discounts taken", "discounts_taken"),
    ):
        lines += [(f"{label} {c}", a) for c, a in summary.get(key, {}).items()]
    offers = summary.get("discount_offers", {"actions": 0, "saves": {}})
    lines.append(("reminders offering a discount", str(offers["actions"])))
    lines += [(f"  savings offered {c}", a) for c, a in offers["saves"].items()]
    lines += [
        ("  invoices offered a discount", str(offers.get("offered_invoices", 0))),
        ("    offered and taken", str(offers.get("offered_and_taken", 0))),
        ("    offered, paid in full later", str(offers.get("offered_paid_later", 0))),
    ]
    if_taken = offers.get("if_taken", {})
    lines += [
        (f"      if taken: cash sooner {c}", a) for c, a in if_taken.get("cash_sooner", {}).items()
    ]
    if if_taken.get("cash_sooner"):
        lines.append(("      if taken: days sooner (mean)", str(if_taken["mean_days_sooner"])))
    lines += [(f"      if taken: cost {c}", a) for c, a in if_taken.get("cost", {}).items()]
    lines += [
        (f"    offered, still unpaid {c}", a)
        for c, a in offers.get("offered_still_unpaid", {}).items()
    ]
    fees = summary.get("late_fees", {"assessments": 0})
    lines.append(("late_fee.assessed published", str(fees["assessments"])))
    lines += [
        (f"  late fees on settled invoices {c}", a)
        for c, a in fees.get("settled_invoices", {}).items()
    ]
    lines += [
        (f"  late fees accrued, still open {c}", a)
        for c, a in fees.get("open_at_horizon", {}).items()
    ]
    lines.append(("actions with a payment link", str(summary.get("actions_with_payment_url", 0))))
    return lines + figure_rows(summary)


FIGURES = (
    ("DSO countback (days)", "dso_countback"),
    ("DSO simple (days)", "dso_simple"),
    ("best possible DSO (days)", "best_possible_dso"),
    ("ADD (days)", "add"),
    ("CEI (%)", "cei_percent"),
    ("share over 90 days", "over_90_share"),
    ("receivables", "receivables"),
)


def figure_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The collection figures at the horizon, the aging report, and DSO and CEI by month."""
    found = summary.get("collection_figures") or {}
    lines: list[tuple[str, str]] = []
    for currency, row in (found.get("currencies") or {}).items():
        lines.append((f"collection figures {currency} on {found['as_of']}", ""))
        lines += [(f"  {label} {currency}", _cell(row.get(key))) for label, key in FIGURES]
    for currency, row in (summary.get("aging_at_horizon") or {}).items():
        lines.append((f"aging {currency} at the horizon", ""))
        lines += [(f"  {column} {currency}", amount) for column, amount in row.items()]
    for month, currencies in (summary.get("collection_by_month") or {}).items():
        for currency, row in currencies.items():
            lines.append((f"  {month} DSO countback {currency}", _cell(row.get("dso_countback"))))
            lines.append((f"  {month} CEI % {currency}", _cell(row.get("cei_percent"))))
    return lines


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def render(summaries: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    """A table with one column per policy run (and a difference column for two)."""
    columns = [dict(rows(s)) for s in summaries]
    labels: list[str] = []  # every run's rows, in order (a fee row may be in one run only)
    for summary in summaries:
        at = 0
        for label, _ in rows(summary):
            if label in labels:
                at = labels.index(label) + 1
            else:
                labels.insert(at, label)
                at += 1
    headers = ["", *names]
    if len(columns) == 2:
        headers.append("difference")
    table = [headers]
    for label in labels:
        values = [column.get(label, "") for column in columns]
        if len(values) == 2:
            values.append(_difference(*values))
        table.append([label, *values])
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    out = []
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _difference(a: str, b: str) -> str:
    """The second run's figure less the first's, exactly (a row one run lacks is 0 there)."""
    if a == b == "":
        return ""
    try:
        delta = Decimal(b or "0") - Decimal(a or "0")
    except InvalidOperation:
        return "" if a == b else "differs"
    if delta == 0:
        return "="
    return f"{delta:+}"
