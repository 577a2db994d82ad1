"""`arpulse simulate`: the domain over a recorded history, offline, one policy or two."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from processor.cli import main
from processor.core.policy_file import default_policy_text, load_policy
from processor.demo.portfolio import portfolio
from processor.simulation.simulate import simulate, summary

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def history() -> list[bytes]:
    return [json.dumps(e.value).encode() for e in portfolio(customers=40, today=END, seed=3)]


def test_a_history_yields_flags_actions_and_final_segments(history: list[bytes]) -> None:
    result = simulate(history, load_policy(None))
    figures = summary(result)
    assert figures["events"] == len(history) and figures["dead_letters"] == 0
    assert figures["customers"] == 40
    assert figures["late_flags"] > 0 and figures["actions"] > 0
    assert sum(figures["final_risk_buckets"].values()) == 40  # type: ignore[attr-defined]
    assert {a.action.stage for a in result.actions} >= {"preventive", "early_delinquency"}
    # No action is ever decided for an invoice already paid at that instant (but the thank-yous,
    # releases and recalls, which are sent because it was).
    settled = {"thank_you", "credit_hold_release", "agency_recall"}
    for item in result.actions:
        if item.action.action not in settled:
            assert item.action.amount_outstanding > 0


def test_the_outcome_does_not_depend_on_how_customers_interleave(history: list[bytes]) -> None:
    by_customer: dict[str, list[bytes]] = {}
    for line in history:
        by_customer.setdefault(json.loads(line)["customer_id"], []).append(line)
    shuffled: list[bytes] = []
    queues = [list(lines) for lines in by_customer.values()]
    rng = random.Random(5)
    while queues:  # a random interleaving that keeps each customer's own order
        queue = rng.choice(queues)
        shuffled.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    policy = load_policy(None)
    one, two = simulate(history, policy), simulate(shuffled, policy)
    assert Counter(a.action.event_id for a in one.actions) == Counter(
        a.action.event_id for a in two.actions
    )


def test_invalid_lines_are_counted_and_events_after_the_horizon_left_out(
    history: list[bytes],
) -> None:
    policy = load_policy(None)
    horizon = datetime(2026, 3, 1, tzinfo=UTC)
    lines = [b"not json", b'{"event_type":"invoice.issued"}', *history]
    result = simulate(lines, policy, until=horizon)
    assert sum(result.dead_letters.values()) == 2
    assert all(item.at <= horizon for item in [*result.actions, *result.flags])
    assert all(s.decided_at is None or s.decided_at <= horizon for s in result.states.values())


def test_a_longer_cooldown_means_fewer_emails_and_never_more_contacts(
    history: list[bytes],
) -> None:
    policy = load_policy(None)
    patient = policy.model_copy(
        update={
            "version": "patient",
            "contact": policy.contact.model_copy(update={"cooldown_days": {"email": 14}}),
        }
    )
    base, other = simulate(history, policy), simulate(history, patient)
    emails = [sum(a.action.channel == "email" for a in r.actions) for r in (base, other)]
    assert emails[1] < emails[0]
    last: dict[str, datetime] = {}
    for item in sorted(other.actions, key=lambda i: i.at):
        if item.action.channel != "email" or item.action.action == "thank_you":
            continue
        previous = last.get(item.customer_id)
        if previous is not None and previous != item.at:
            # Cooldowns count the customer's days (its profile's zone)
            zone = ZoneInfo(other.states[item.customer_id].profile.time_zone or "UTC")
            days = (item.at.astimezone(zone).date() - previous.astimezone(zone).date()).days
            assert days >= 14
        last[item.customer_id] = item.at


def test_the_command_compares_two_policies_side_by_side(
    history: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(history))
    other = tmp_path / "strict.toml"
    other.write_text(
        default_policy_text()
        .replace('version = "2026.12-2"', 'version = "strict-1"')
        .replace("clock_grace_days = 1", "clock_grace_days = 0")
    )
    assert main(["simulate", str(events), "--compare", str(other), "--json"]) == 0
    base, strict = json.loads(capsys.readouterr().out)
    assert (base["policy_version"], strict["policy_version"]) == ("2026.12-2", "strict-1")
    assert main(["simulate", str(events), "--compare", str(other), "--until", "2026-05-31"]) == 0
    text = capsys.readouterr().out
    assert "strict.toml" in text and "difference" in text and "2026-05-31T23:59:59" in text


def test_a_bad_until_is_refused_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("")
    assert main(["simulate", str(events), "--until", "someday"]) == 2
    assert "--until 'someday'" in capsys.readouterr().err


def test_compare_shows_what_a_risk_model_change_does_to_buckets_types_and_actions(
    history: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(history))
    blind = tmp_path / "days-only.toml"  # a risk model blind to the money at stake
    text = default_policy_text().replace('version = "2026.12-2"', 'version = "days-only"')
    text = text.replace(
        "[risk.stake_points]\nminor = 0\nsmall = 10\nmid = 25\nkey = 50",
        "[risk.stake_points]\nminor = 0\nsmall = 0\nmid = 0\nkey = 0",
    )
    assert "small = 0\nmid = 0\nkey = 0" in text
    blind.write_text(text)
    assert main(["simulate", str(events), "--compare", str(blind), "--json"]) == 0
    base, other = json.loads(capsys.readouterr().out)
    assert sum(base["final_risk_buckets"].values()) == sum(other["final_risk_buckets"].values())
    assert base["final_risk_buckets"]["high"] > other["final_risk_buckets"]["high"]
    assert set(base["final_delinquency_types"]) == {
        "none",
        "accidental",
        "disorganized",
        "strategic",
        "distressed",
    }
    assert base["actions_by_segment"] != other["actions_by_segment"]
    assert main(["simulate", str(events), "--compare", str(blind)]) == 0
    table = capsys.readouterr().out
    for label in ("customers ending in risk bucket", "customers ending as delinquency type"):
        assert label in table
    assert "actions, strategic" in table and "days-only.toml" in table


def test_the_money_figures_agree_with_the_history_and_show_what_fees_change(
    history: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [json.loads(line) for line in history]
    # Cash by month, from the history itself (every payment here applies; reversals take back).
    paid: dict[tuple[str, str], tuple[str, Decimal]] = {}
    cash: dict[tuple[str, str], Decimal] = {}
    for event in events:
        key = (event["customer_id"], event.get("payment_id", ""))
        if event["event_type"] == "payment.received":
            paid[key] = (event["currency"], Decimal(event["amount"]))
            month = (event["received_on"][:7], event["currency"])
            cash[month] = cash.get(month, Decimal(0)) + Decimal(event["amount"])
        elif event["event_type"] == "payment.reversed" and key in paid:
            currency, amount = paid[key]
            month = (event["reversed_on"][:7], currency)
            cash[month] = cash.get(month, Decimal(0)) - amount
    base = summary(simulate(history, load_policy(None)))
    by_month: dict[str, dict[str, str]] = base["cash_collected_by_month"]  # type: ignore[assignment]
    found = {(m, c): Decimal(a) for m, amounts in by_month.items() for c, a in amounts.items()}
    assert found == {k: v for k, v in cash.items() if v}
    assert any(e.get("terms") == "2/10 net 30" for e in events)
    assert base["discounts_taken"]  # some customers on 2/10 net 30 took the discount
    assert base["late_fees"] == {"assessments": 0, "settled_invoices": {}, "open_at_horizon": {}}
    offers: dict[str, Any] = base["discount_offers"]  # type: ignore[assignment]
    assert offers["actions"] > 0 and offers["offered_invoices"] > 0
    assert offers["offered_and_taken"] + offers["offered_paid_later"] <= offers["offered_invoices"]
    if offers["offered_paid_later"]:  # each would have saved 2 % and come on its pay-by day
        sooner, cost = offers["if_taken"]["cash_sooner"], offers["if_taken"]["cost"]
        for currency, amount in sooner.items():
            assert Decimal(cost[currency]) * 49 == pytest.approx(
                Decimal(amount), rel=Decimal("0.01")
            )

    text = default_policy_text().replace('version = "2026.12-2"', 'version = "fees"')
    text = text.replace("fixed = {}", 'fixed = { USD = "40.00", EUR = "40.00", GBP = "40.00" }')
    text = text.replace("assess = false", "assess = true")
    other = tmp_path / "fees.toml"
    other.write_text(text)
    fees = summary(simulate(history, load_policy(other)))
    assert fees["cash_collected_by_month"] == by_month  # a recorded history's cash is what it is
    assert fees["discounts_taken"] == base["discounts_taken"]
    late: dict[str, Any] = fees["late_fees"]  # type: ignore[assignment]
    assert late["assessments"] > 0 and late["open_at_horizon"]
    # Fixed fees only: every figure is a whole number of 40.00 fees.
    for amount in (*late["open_at_horizon"].values(), *late["settled_invoices"].values()):
        assert Decimal(amount) % 40 == 0
    stream = tmp_path / "events.jsonl"
    stream.write_bytes(b"\n".join(history))
    assert main(["simulate", str(stream), "--compare", str(other)]) == 0
    table = capsys.readouterr().out
    assert "late fees accrued, still open USD" in table
    assert "early-payment discounts taken USD" in table
