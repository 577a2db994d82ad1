"""The worklist's query rules, shared by HTTP and the CLI: a bad parameter is named."""

from __future__ import annotations

import pytest

from processor.serving.queries import MAX_WORKLIST, BadRequest, worklist_query


def test_defaults_and_filters() -> None:
    assert worklist_query({}) == {"limit": 50, "risk_bucket": None, "aging_bucket": None}
    assert worklist_query({"limit": "5", "risk_bucket": "high", "aging_bucket": "61-90"}) == {
        "limit": 5,
        "risk_bucket": "high",
        "aging_bucket": "61-90",
    }
    assert worklist_query({"risk_bucket": ""})["risk_bucket"] is None  # empty: no filter


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "ten"}, "limit: must be an integer"),
        ({"limit": "0"}, "limit: must be between 1"),
        ({"limit": str(MAX_WORKLIST + 1)}, "limit: must be between 1"),
        ({"risk_bucket": "extreme"}, "risk_bucket: must be one of low, medium, high"),
        ({"aging_bucket": "200+"}, "aging_bucket: must be one of current"),
    ],
)
def test_a_bad_parameter_is_named(params: dict[str, str], named: str) -> None:
    with pytest.raises(BadRequest, match=named):
        worklist_query(params)
