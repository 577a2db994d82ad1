from __future__ import annotations

import pytest

from processor.domain.policy import Policy
from processor.policy_file import load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The committed default policy."""
    return load_policy(None)
