"""The cyclic garbage collector, tuned so that its full collections do not stall the worker.

With Python's default thresholds a worker under load ran a full (oldest-generation) collection
about every 5 s, and each one stopped the event loop for 95 to 150 ms while it walked every
tracked object (Faust's and aiokafka's, the policy, the decoded-state cache). Those pauses were
the produce-to-action latency's tail: every batch in flight waited them out. Two changes remove
most of it:

- everything built at start-up (modules, the app, the policy) is moved out of the collector's
  sight (`gc.freeze`): it lives as long as the process, so walking it is wasted;
- collections run less often (a young collection every 20,000 allocations instead of 700, an
  older one every 20 young ones instead of 10). arpulse's garbage is freed by reference counting
  almost entirely (its states are trees, not cycles), so waiting longer for the rare cycle costs
  little memory; the soak (`make soak`) checks that memory still levels off.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations (net of frees) between young-generation collections (default 700)
OLDER = 20  # collections of a generation between collections of the next one (default 10)


def tune_collector() -> None:
    """Freeze what exists now and space the collections out; call once, just before running."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
