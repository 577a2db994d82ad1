"""The collection ladder of a policy as a Markdown table (docs/policy.md shows the default's).

Generated from the policy, never written by hand, so the documentation cannot promise a rung the
policy does not have; a test checks the committed page against it.
"""

from __future__ import annotations

from processor.domain.policy import RISK_BUCKETS, Policy

START = "<!-- ladder table: generated from processor/policies/default.toml -->"
END = "<!-- end of ladder table -->"


def _day(
    offset: int,
) -> str:  # negative: before the payable-by date  # negative: before the payable-by date
    return str(offset)


def ladder_table(policy: Policy) -> str:
    """One row per step: risk bucket, day (from the payable-by date), rule and what it does."""
    rows = [
        "| risk | day | rule | action | channel | tone | stage |",
        "|---|---|---|---|---|---|---|",
    ]
    for bucket in RISK_BUCKETS:
        for step in sorted(policy.ladder.for_risk(bucket), key=lambda s: s.offset_days):
            rows.append(
                f"| {bucket} | {_day(step.offset_days)} | `{step.id}` | "
                f"{step.action.replace('_', ' ')} | {step.channel} | {step.tone} | "
                f"{step.stage.replace('_', ' ')} |"
            )
    return "\n".join(rows)


def documented(policy: Policy) -> str:
    """The table with the markers that delimit it in a page."""
    return f"{START}\n{ladder_table(policy)}\n{END}"
