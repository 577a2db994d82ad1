"""The policy file: the default loads, and a broken file is refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.core.policy_file import default_policy_text, load_policy, parse_policy
from processor.errors import ConfigError


def test_the_default_policy_loads_and_has_a_version() -> None:
    policy = load_policy(None)
    assert policy.version
    for bucket in ("low", "medium", "high"):
        ladder = policy.ladder.for_risk(bucket)
        assert [s.offset_days for s in ladder] == sorted(s.offset_days for s in ladder)
        assert ladder[-1].action == "agency_referral"
        assert {"payment_plan_offer", "credit_hold"} <= {s.action for s in ladder}
        preventive = [s for s in ladder if s.stage == "preventive"]
        assert bool(preventive) is (bucket != "low")
    assert policy.contact.cooldown_days["email"] >= 1
    assert policy.contact.minimum_amount["USD"] > 0


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (("clock_grace_days = 1", "clock_grace_days = -1"), "clock_grace_days"),
        (
            ('on_time_max_late_share = "0.10"', "on_time_max_late_share = 0.10"),
            "behavior.on_time_max_late_share",
        ),
        (('timezone = "UTC"', 'timezone = "Mars/Olympus"'), "timezone"),
        (
            ('early_tone = "friendly"', 'early_tone = "rude"'),
            "delinquency.approach.accidental.early_tone",
        ),
        (('"120+" = 25', '"121+" = 25'), "risk.aging_points"),
        (("minor = 0\nsmall = 10", "small = 10"), "risk.stake_points"),
        (
            ('due_on_non_business_day = "next_business_day"', 'due_on_non_business_day = "never"'),
            "calendar.due_on_non_business_day",
        ),
        (('AED = "0.2723"\n', ""), "value_tier"),  # every ISO currency needs a rate
        (('channel_order = ["email"', 'channel_order = ["fax"'), "contact.channel_order.0"),
        (("high_from = 60", "high_from = 20"), "risk"),
        (('version = "2026.12-2"', 'versoin = "x"'), "version"),
        (("offset_days = -3", "offset_days = 2"), "ladder.medium step medium.pre3.reminder"),
        (("email = 3", "email = -1"), "contact.cooldown_days"),
        (('start = "20:00"', 'start = "25:00"'), "contact.quiet_hours.start"),
        (('USD = "25.00"', "USD = 25.5"), "contact.minimum_amount.USD"),
        (('channels = ["email"', 'channels = ["pigeon"'), "contact.quiet_hours.channels.0"),
        (("retain_days = 400", "retain_days = 364"), "history"),
        (("retain_days = 400", "retain_days = 0"), "history.retain_days"),
        (("window_days = 365", "window_days = 401"), "history"),  # behavior's window
        (('interest = "none"', 'interest = "daily"'), "late_fees"),  # a rate is needed
        (('interest = "none"', 'interest = "weekly"'), "late_fees.interest"),
        (("fixed = {}", 'fixed = { JPY = "40.5" }'), "late_fees.fixed"),
        (("cap = {}", 'cap = { XXQ = "5" }'), "late_fees.cap"),
        (("day_count = 365", "day_count = 364"), "late_fees.day_count"),
        (
            ('# url_template = "https://pay', 'url_template = "http://pay'),
            "payment.url_template",
        ),
        (
            (
                '# url_template = "https://pay.example.com/{customer_id}',
                'url_template = "https://pay.example.com/{customer}',
            ),
            "payment.url_template",
        ),
        (
            (
                '# url_template = "https://pay.example.com/{customer_id}',
                'url_template = "https://pay.example.com/{customer_id!r}',
            ),
            "payment.url_template",
        ),
        (('value_tiers = ["small"', 'value_tiers = ["tiny"'), "discount_offer.value_tiers.0"),
        (
            ("remind_days_before = 3", "remind_days_before = -1"),
            "discount_offer.remind_days_before",
        ),
        (("window_days = 90", "window_days = 400"), "reports.window_days"),
        (('cei_convention = "period"', 'cei_convention = "crf"'), "reports.cei_convention"),
    ],
)
def test_a_broken_policy_names_the_field(edit: tuple[str, str], named: str) -> None:
    old, new = edit
    text = default_policy_text()
    assert old in text
    with pytest.raises(ConfigError) as raised:
        parse_policy(text.replace(old, new, 1), source="test.toml")
    assert f"{named}:" in str(raised.value)
    assert "test.toml" in str(raised.value)


@pytest.mark.parametrize(
    ("edits", "window"),
    [
        ([("retain_days = 400", "retain_days = 300")], "behavior.window_days (365)"),
        (
            [("retain_days = 400", "retain_days = 300"), ("window_days = 365", "window_days = 90")],
            "value_tier.window_days (365)",
        ),
    ],
)
def test_history_shorter_than_a_segmentation_window_is_refused(
    edits: list[tuple[str, str]], window: str
) -> None:
    text = default_policy_text()
    for old, new in edits:
        text = text.replace(old, new, 1)
    with pytest.raises(ConfigError) as raised:
        parse_policy(text, source="p.toml")
    message = str(raised.value)
    assert message.startswith("policy p.toml: history: retain_days ")
    assert f"is shorter than {window}" in message


def test_the_default_history_outlasts_every_segmentation_window() -> None:
    policy = load_policy(None)
    assert policy.history.retain_days >= policy.behavior.window_days
    assert policy.history.retain_days >= policy.value_tier.window_days
    assert (
        parse_policy(
            default_policy_text().replace("retain_days = 400", "retain_days = 365"), source="p.toml"
        ).history.retain_days
        == 365
    )  # exactly the longest window is enough


def test_a_policy_that_is_not_toml_is_refused() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_policy("version = ", source="bad.toml")


def test_a_missing_policy_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_policy(tmp_path / "absent.toml")


def test_a_report_window_longer_than_the_history_kept_is_refused() -> None:
    text = default_policy_text().replace("window_days = 365", "window_days = 200")
    text = text.replace("window_days = 90", "window_days = 300", 1)
    kept = text.replace("retain_days = 400", "retain_days = 300", 1)
    assert parse_policy(kept, source="p.toml").reports.window_days == 300  # exactly enough
    with pytest.raises(ConfigError) as raised:
        parse_policy(text.replace("retain_days = 400", "retain_days = 250", 1), source="p.toml")
    assert "reports: window_days 300 is longer than history.retain_days (250)" in str(raised.value)
