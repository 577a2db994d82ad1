from __future__ import annotations

import pytest

from processor.core.policy_file import load_policy
from processor.domain.policy import CalendarPolicy, Policy


@pytest.fixture(scope="session")
def committed_policy() -> Policy:
    """The committed default policy (due dates on weekends move to the next business day)."""
    return load_policy(None)


@pytest.fixture(scope="session")
def policy(committed_policy: Policy) -> Policy:
    """The committed default policy with due dates taken as they are.

    Most domain tests count days from due dates that may fall on a weekend; the calendar's own
    tests (test_calendar.py) use `committed_policy`.
    """
    return committed_policy.model_copy(
        update={"calendar": CalendarPolicy(due_on_non_business_day="as_is")}
    )
