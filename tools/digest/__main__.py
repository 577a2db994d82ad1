"""`python -m tools.digest`: what the decisions were, as digests to compare across commits.

    python -m tools.digest            # on one checkout, then on another: the lines must match

A rework of the domain or of the pipeline (a speed-up, an incremental derivation) must decide
exactly what the code before it decided. This prints one digest per generated history, and one
for the pipeline:

- `simulate` (the pure domain, as `arpulse simulate` runs it) over three portfolios of
  `arpulse generate` (every contract 1.1 fact) and over the bench's event mix: every action, late
  flag, other output, dead letter, fee, cash, owed and receivables figure, in order, and every
  final state;
- the worker's pipeline (`EventProcessor`, its stores in memory) over the mix, in the bench's
  batches: every published message, byte for byte, and every stored state.

States are compared by their `repr`, not their encoded bytes, so a change of the state codec's
bytes alone does not show; the codec's round trip is checked beside. Python's string hashing is
fixed (PYTHONHASHSEED=0) so that set-valued fields print the same in every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from datetime import date, timedelta

SEED_VARIABLE = "PYTHONHASHSEED"


def _histories() -> Iterable[tuple[str, list[bytes]]]:
    from processor.demo.portfolio import portfolio
    from tools.bench import load

    end = date(2026, 6, 30)  # `arpulse generate`'s default end
    for seed in (1, 2, 3):
        events = portfolio(customers=300, today=end, seed=seed, invoices=12)
        lines = [json.dumps(e.value, separators=(",", ":")).encode() for e in events]
        yield f"generate seed {seed}", lines
    yield "bench mix", [e.value for e in load.take(load.portfolio_mix(400, 7), 12_000)]


def _simulated(lines: list[bytes]) -> tuple[str, int]:
    from processor.core.policy_file import load_policy
    from processor.core.state_codec import decode_state, encode_state
    from processor.simulation.simulate import simulate

    result = simulate(lines, load_policy(None))
    digest = hashlib.sha256()
    for item in (*result.actions, *result.flags, *result.others):
        digest.update(repr(item).encode())
    for part in (
        sorted(result.dead_letters.items()),
        result.fees,
        result.segment_changes,
        sorted(result.cash.items()),
        sorted(result.owed.items()),
        sorted(result.receivables.items()),
    ):
        digest.update(repr(part).encode())
    mismatched = 0
    for key in sorted(result.states):
        state = result.states[key]
        digest.update(repr(state).encode())
        mismatched += decode_state(encode_state(state)) != state
    return digest.hexdigest()[:16], mismatched


def _pipeline() -> str:
    from processor.core.policy_file import load_policy
    from tools.bench import load, logic

    events = load.take(load.portfolio_mix(400, 7), 6_000)
    at = events[-1].at + timedelta(seconds=60)
    settings = logic.settings_for(4, {})
    _cpu, outbox = logic.time_pipeline(logic.inbound(events, 4), settings, load_policy(None), at)
    digest = hashlib.sha256()
    for message in outbox.sent:
        digest.update(repr(message).encode())
    return f"{digest.hexdigest()[:16]} ({len(outbox.sent)} messages)"


def main() -> int:
    """Print the digests (re-run with a fixed string hash first)."""
    if os.environ.get(SEED_VARIABLE) != "0":
        os.environ[SEED_VARIABLE] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "tools.digest", *sys.argv[1:]])
    broken = 0
    for name, lines in _histories():
        digest, mismatched = _simulated(lines)
        broken += mismatched
        print(f"simulate, {name} ({len(lines)} events): {digest}")
    print(f"pipeline, bench mix: {_pipeline()}")
    if broken:
        print(f"state codec: {broken} states did not round-trip", file=sys.stderr)
        return 1
    return 0


sys.exit(main())
