"""The profile's sums: each py-spy sample goes to the innermost frame of a known part."""

from __future__ import annotations

from tools.profile.run import categorize, shares

DRAIN = "main (processor/cli.py:1);drain_partition (processor/runtime/drain.py:9)"
LINES = [
    f"{DRAIN};on_event (processor/domain/decide.py:3) 30",
    f"{DRAIN};decode_state (processor/core/state_codec.py:5) 10",
    f"{DRAIN};json.dumps (json/encoder.py:2) 5",
    "_run_once (asyncio/base_events.py:1);EpollSelector.select (selectors.py:468) 5",
    "garbage line without a count",
]


def test_samples_go_to_the_innermost_known_part() -> None:
    totals = categorize(LINES)
    assert totals == {"domain": 30, "state codec": 10, "pipeline": 5, "idle": 5}


def test_shares_are_percentages_largest_first() -> None:
    assert shares(categorize(LINES)) == [
        ("domain", 60.0),
        ("state codec", 20.0),
        ("pipeline", 10.0),
        ("idle", 10.0),
    ]
