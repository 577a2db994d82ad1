"""The worker's collector tuning: start-up objects frozen, collections spaced out."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from processor.runtime.gc_tuning import OLDER, YOUNG, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_collections_spaced_out() -> None:
    built_at_start = {"policy": ["a tracked", "container"]}
    tune_collector()

    assert gc.get_threshold() == (YOUNG, OLDER, OLDER)
    assert YOUNG > 700 and OLDER > 10  # less often than Python's defaults
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(built_at_start)
    assert not any(o is built_at_start for o in gc.get_objects())  # out of the collector's sight
