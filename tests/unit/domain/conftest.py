from __future__ import annotations

import pytest

from processor.core.policy_file import load_policy
from processor.domain.policy import Policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The committed default policy."""
    return load_policy(None)
