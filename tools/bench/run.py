"""`make bench`: arpulse against the raw Kafka client on one broker; latency, memory, restart.

    python -m tools.bench [--runs 3] [--customers 2000] [--invoices 4] [--events N]
                          [--partitions 4] [--state-customers 100000] [--quick] [--strict]

It starts its own broker and Redis (never a server the machine already runs), generates a
synthetic portfolio (tools/bench/load.py: the soak's mix of on-time, late and delinquent payers,
monthly invoices, payments, due notices and about 1 % bad events), and in each run measures:

1. raw: the backlog produced to fresh topics first, then an aiokafka consume -> json -> produce
   loop (tools/bench/raw.py) through it; events/s from its first consumed message to the last
   acknowledged output: the pass-through ceiling on this machine and broker.
   Then the Faust peers (tools/bench/faust_peers.py), each on a fresh copy, in its own process:
   an agent that only consumes (the runtime's ceiling) and a naive Faust ledger (validation, one
   table update and one send per event). The worker's ratios to them are the throughput targets.
2. arpulse: the same events produced to a fresh app's input topics first, then an `arpulse
   worker` started on them (its own process, clock standing still just after the backlog);
   events/s from its first consumed event to its last (`arpulse_events_consumed_total`), start-up
   excluded. The ratio arpulse/raw is the throughput figure.
   Then the logic alone (tools/bench/logic.py): the worker's pipeline with its table, outbox and
   projection in memory, and the pure domain, through the same backlog in this process, in
   events per CPU-second; over raw, the ratio ceilings if the transport cost nothing. And the
   same pipeline on a plain aiokafka loop (tools/bench/direct.py: no Faust, no Redis) through a
   fresh copy of the backlog: what a worker with its own consume loop could reach. The logic and
   the pure domain are measured again at 4, 8 and 32 invoices per customer (as many events, fewer
   customers): how their cost grows with the length of a customer's history.
3. latency: the worker restarted on a clock that runs on from there, fed the mix's next events
   evenly at --latency-rate (2,000 events/s; 0: half of the rate it just reached), for
   --latency-seconds. Per collection action
   caused by a fed event (its `caused_by` names the event id): the action record's Kafka
   timestamp (set by the worker's producer as it publishes) minus the input record's (set by
   the bench's producer as it sends). p50, p99 and max.
4. memory and restart: --state-customers customers' states, made by the pure domain from a
   typical history and cloned, are written once into a state app's changelog. Each run starts a
   worker of an empty app (idle) and one of the state app (a restart: it recovers every customer
   from the changelog), times the latter to /healthz ready, and reads both resident memories.
   Memory per customer = (RSS with state - RSS idle) / customers.

Every figure is reported as the median of the runs with its range. Writes OUT/bench.json and
OUT/bench.png, prints a summary table and the verdicts against the targets (tools/bench/report.py).

Exit code 0 when every phase ran (targets missed or not; with --strict, 1 when one is missed),
1 when something broke (a worker died, the broker failed; the report is written anyway), 2 for
bad arguments, 130 on Ctrl-C or SIGTERM. Every process it started is stopped in every case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from processor.core.policy_file import load_policy
from processor.demo.devstack import DevStack, StackError
from schemas import topics
from tools.bench import arpulse, direct, kafka, load, logic, peers, report
from tools.bench.raw import pass_through
from tools.soak.mix import Outgoing
from tools.soak.run import _stop_on_sigterm
from tools.soak.worker import RunAborted

STATE_APP = "bench-state"
BACKLOG_CLOCK_MARGIN_S = 60  # the backlog's clock stands this long after its last event
BROKEN = (RunAborted, KafkaError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """What one bench does (the command-line options)."""

    runs: int = 3
    customers: int = 2000
    invoices: int = 4
    events: int | None = None  # None: about customers x invoices x events per invoice
    partitions: int = 4
    state_customers: int = 100_000
    state_sample: int = 200
    latency_seconds: float = 20.0
    latency_rate: float | None = report.LATENCY_RATE  # None: half of the run's maximum
    seed: int = 7
    out: Path = Path("build/bench")
    strict: bool = False
    quick: bool = False
    # NAME=VALUE worker settings applied to every worker the bench starts (to compare settings)
    worker_setting: tuple[str, ...] = ()
    state_only: bool = False  # only the memory and restart phase (a large --state-customers)
    state_stores: str = "memory,rocksdb"  # the table stores the restart phases measure

    @property
    def worker_overrides(self) -> dict[str, str]:
        """The --worker-setting options as environment variables."""
        return dict(item.split("=", 1) for item in self.worker_setting)

    @property
    def backlog(self) -> int:
        """Events in each pass's backlog."""
        return self.events or load.backlog_size(self.customers, self.invoices)


# The RocksDB restart's memory is read again this long after ready: indexing a million stored
# customers' wake-ups follows readiness, and its memory belongs in the figure.
ROCKSDB_SETTLED_S = 60.0

QUICK = {
    "runs": 1,
    "customers": 200,
    "invoices": 2,
    "state_customers": 5000,
    "state_sample": 40,
    "latency_seconds": 5.0,
    "latency_rate": 200.0,
}


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def seed_state(settings: BenchSettings, bootstrap: str) -> tuple[dict[str, Any], arpulse.App]:
    """Typical states of a sample, cloned to --state-customers, written into a changelog."""
    policy = load_policy(None)
    _say(f"state: a typical history for {settings.state_sample} customers (pure domain)")
    states, end = load.typical_states(
        sample=settings.state_sample, seed=settings.seed, policy=policy
    )
    app = arpulse.App(STATE_APP, settings.partitions)
    _say(f"state: seeding {settings.state_customers} customers into {app.changelog}")
    figures = arpulse.seed_changelog(
        bootstrap, app, load.clones(states, settings.state_customers, policy)
    )
    figures["history_end"] = end.isoformat()
    _say(
        f"state: {figures['customers']} customers, mean encoded state "
        f"{figures['mean_state_bytes']:.0f} bytes, written in {figures['seed_seconds']:.1f}s"
    )
    return figures, app


def _backlog(settings: BenchSettings) -> list[Outgoing]:
    """The backlog every phase of a run goes through (the same events each time)."""
    return load.take(load.portfolio_mix(settings.customers, settings.seed), settings.backlog)


def _clock_after(events: list[Outgoing]) -> datetime:
    """Where a backlog's clock stands: just after its last event (every event decided then)."""
    return events[-1].at.replace(microsecond=0) + timedelta(seconds=BACKLOG_CLOCK_MARGIN_S)


def raw_phase(run: report.RunFigures, settings: BenchSettings, bootstrap: str) -> None:
    """The pass-through ceiling on a fresh copy of the backlog."""
    events = _backlog(settings)
    prefix = f"bench-raw-r{run.index}."
    inputs = [prefix + t for t in topics.INPUT_TOPICS]
    asyncio.run(kafka.create_topics(bootstrap, [*inputs, prefix + "out"], settings.partitions))
    asyncio.run(kafka.produce_all(bootstrap, kafka.backlog_records(events, prefix.__add__)))
    result = asyncio.run(
        pass_through(
            bootstrap=bootstrap,
            inputs=inputs,
            output=prefix + "out",
            group=f"bench-raw-r{run.index}",
            count=len(events),
        )
    )
    run.figures["raw_events_per_s"] = result.events_per_s
    run.details["raw"] = {"events": result.events, "seconds": round(result.seconds, 3)}
    _say(f"run {run.index}: raw {result.events_per_s:,.0f} events/s ({result.events} events)")


def peers_phase(run: report.RunFigures, settings: BenchSettings, bootstrap: str) -> None:
    """The Faust peers through fresh copies of the backlog: consume only, a naive ledger."""
    events = _backlog(settings)
    for mode in peers.MODES:
        try:
            result = peers.run_peer(
                mode,
                bootstrap=bootstrap,
                events=events,
                partitions=settings.partitions,
                workdir=settings.out / "peers",
                name=f"bench-faust-{mode}-r{run.index}",
            )
        except RuntimeError as exc:
            raise RunAborted(str(exc)) from exc
        run.figures[f"faust_{mode}_events_per_s"] = result.events_per_s
        run.details[f"faust_{mode}"] = {"events": result.events, "seconds": result.seconds}
        _say(
            f"run {run.index}: Faust {peers.LABELS[mode]} {result.events_per_s:,.0f} events/s "
            f"({result.events} events in {result.seconds:.1f}s)"
        )


def logic_phase(run: report.RunFigures, settings: BenchSettings) -> None:
    """The worker's logic alone through the same backlog: the throughput ceilings."""
    events = _backlog(settings)
    clock_at = _clock_after(events)
    figures = logic.measure(
        events,
        partitions=settings.partitions,
        policy=load_policy(None),
        at=clock_at,
        overrides=settings.worker_overrides,
    )
    run.figures["logic_events_per_cpu_s"] = figures.pipeline_events_per_cpu_s
    run.figures["domain_events_per_cpu_s"] = figures.domain_events_per_cpu_s
    run.details["logic"] = {
        **asdict(figures),
        "pipeline_events_per_cpu_s": figures.pipeline_events_per_cpu_s,
        "domain_events_per_cpu_s": figures.domain_events_per_cpu_s,
    }
    _say(
        f"run {run.index}: logic alone {figures.pipeline_events_per_cpu_s:,.0f} events per "
        f"CPU-second (pure domain {figures.domain_events_per_cpu_s:,.0f})"
    )
    for invoices in report.HISTORY_SIZES:
        customers = history_customers(settings, invoices)
        sized = load.take(
            load.portfolio_mix(customers, settings.seed), load.backlog_size(customers, invoices)
        )
        figures = logic.measure(
            sized,
            partitions=settings.partitions,
            policy=load_policy(None),
            at=_clock_after(sized),
            overrides=settings.worker_overrides,
        )
        run.figures[f"logic_events_per_cpu_s_{invoices}"] = figures.pipeline_events_per_cpu_s
        run.figures[f"domain_events_per_cpu_s_{invoices}"] = figures.domain_events_per_cpu_s
        run.details[f"logic_{invoices}"] = {**asdict(figures), "customers": customers}
        _say(
            f"run {run.index}: at {invoices} invoices per customer ({customers} customers, "
            f"{figures.events} events): logic {figures.pipeline_events_per_cpu_s:,.0f}, pure "
            f"domain {figures.domain_events_per_cpu_s:,.0f} events per CPU-second"
        )


def history_customers(settings: BenchSettings, invoices: int) -> int:
    """Customers of the history-length backlogs: about as many events as the main backlog."""
    return max(1, round(settings.customers * settings.invoices / invoices))


def direct_phase(run: report.RunFigures, settings: BenchSettings, bootstrap: str) -> None:
    """The worker's pipeline on a plain aiokafka loop through a fresh copy of the backlog."""
    events = _backlog(settings)
    clock_at = _clock_after(events)
    app = arpulse.App(f"bench-direct-r{run.index}", settings.partitions)
    asyncio.run(app.create_topics(bootstrap))
    asyncio.run(kafka.create_topics(bootstrap, [app.changelog], settings.partitions))
    asyncio.run(kafka.produce_all(bootstrap, kafka.backlog_records(events, app.topic)))
    worker_settings = logic.settings_for(
        settings.partitions,
        {**app.env(start=clock_at, frozen=True), **settings.worker_overrides},
    )
    result = asyncio.run(
        direct.pipeline_loop(
            bootstrap=bootstrap,
            settings=worker_settings,
            policy=load_policy(None),
            at=clock_at,
            changelog=app.changelog,
            group=app.app_id,
            count=len(events),
        )
    )
    run.figures["direct_events_per_s"] = result.events_per_s
    run.details["direct"] = {**asdict(result), "events_per_s": result.events_per_s}
    _say(
        f"run {run.index}: the pipeline on a plain aiokafka loop {result.events_per_s:,.0f} "
        f"events/s ({result.events} events in {result.seconds:.1f}s, {result.outputs} outputs, "
        f"{result.changelog_records} changelog records)"
    )


def arpulse_phases(
    run: report.RunFigures, settings: BenchSettings, workers: arpulse.Workers
) -> None:
    """The worker through the backlog, then restarted under half of the rate it reached."""
    mix = load.portfolio_mix(settings.customers, settings.seed)
    events = load.take(mix, settings.backlog)
    app = arpulse.App(f"bench-r{run.index}", settings.partitions)
    asyncio.run(app.create_topics(workers.kafka))
    asyncio.run(kafka.produce_all(workers.kafka, kafka.backlog_records(events, app.topic)))
    clock_at = _clock_after(events)
    worker = workers.start(f"r{run.index}-backlog", app.env(start=clock_at, frozen=True))
    try:
        drained = arpulse.drain(worker, app.inputs, len(events))
        arpulse.settle_wakeups(worker, app.inputs)
    finally:
        workers.stop(worker)
    run.figures["arpulse_events_per_s"] = drained.events_per_s
    run.details["arpulse"] = {**asdict(drained), "backlog": len(events), "clock": str(clock_at)}
    _say(
        f"run {run.index}: arpulse {drained.events_per_s:,.1f} events/s "
        f"({drained.events} events in {drained.seconds:.1f}s after {drained.startup_seconds:.1f}s "
        f"of start-up)"
    )
    rate = settings.latency_rate or max(1.0, drained.events_per_s / 2)
    _say(f"run {run.index}: latency at {rate:.1f} events/s for {settings.latency_seconds:g}s")
    latency = arpulse.fixed_load(
        workers,
        name=f"r{run.index}-latency",
        app=app,
        mix=mix,
        per_day=load.events_per_day(settings.customers),
        rate=rate,
        seconds=settings.latency_seconds,
        start=clock_at,
    )
    run.details["latency"] = {
        "target_rate": rate,
        "sent": latency.sent,
        "actions_matched": len(latency.latencies_ms),
        "actions_published": latency.actions,
        "flags_matched": len(latency.flags_ms),
        "actions_ms": latency.latencies_ms,
        "flags_ms": latency.flags_ms,
        "wakeups": latency.wakeups,
        "clock_days_per_second": rate / load.events_per_day(settings.customers),
    }
    run.figures["latency_input_rate"] = latency.input_rate
    if not latency.latencies_ms:
        raise RunAborted("no collection action was caused by the fixed load's events")
    run.figures.update(report.latency_figures(latency.latencies_ms))
    _say(
        f"run {run.index}: latency p50 {run.figures['latency_p50_ms']:.0f} ms, p99 "
        f"{run.figures['latency_p99_ms']:.0f} ms, max {run.figures['latency_max_ms']:.0f} ms "
        f"over {len(latency.latencies_ms)} actions; {latency.wakeups} wake-ups handled beside "
        f"{latency.sent} events"
    )


def memory_phase(
    run: report.RunFigures,
    settings: BenchSettings,
    workers: arpulse.Workers,
    state: dict[str, Any],
    state_app: arpulse.App,
) -> None:
    """An idle worker and a restart of the state app: ready time and resident memory."""
    clock_at = datetime.fromisoformat(state["history_end"])
    idle_app = arpulse.App(f"bench-idle-r{run.index}", settings.partitions)
    idle = arpulse.start_and_measure(
        workers, f"r{run.index}-idle", idle_app.env(start=clock_at, frozen=True)
    )
    loaded = arpulse.start_and_measure(
        workers,
        f"r{run.index}-restart",
        state_app.env(start=clock_at, frozen=True),
        arpulse.ready_timeout(state["customers"]),
    )
    run.figures["rss_idle_mb"] = idle["rss_mb"]
    run.figures["rss_loaded_mb"] = loaded["rss_mb"]
    run.figures["restart_seconds"] = loaded["ready_seconds"]
    run.figures.update(
        report.memory_figures(
            rss_loaded_mb=loaded["rss_mb"],
            rss_idle_mb=idle["rss_mb"],
            customers=state["customers"],
        )
    )
    run.details["memory"] = {"idle": idle, "restart": loaded}
    _say(
        f"run {run.index}: restart with {state['customers']} customers ready in "
        f"{loaded['ready_seconds']:.1f}s; RSS {idle['rss_mb']:.0f} MB idle, "
        f"{loaded['rss_mb']:.0f} MB with state ({run.figures['kb_per_customer']:.2f} KB/customer)"
    )


def rocksdb_phase(
    run: report.RunFigures,
    settings: BenchSettings,
    workers: arpulse.Workers,
    state: dict[str, Any],
    state_app: arpulse.App,
) -> None:
    """The state app on RocksDB: a first start that fills the data dir, then a restart on it."""
    clock_at = datetime.fromisoformat(state["history_end"])
    timeout = arpulse.ready_timeout(state["customers"])
    # RocksDB: the first start fills the data dir from the whole changelog; the restart, on the
    # same data dir (the same worker name), reads only the tail.
    rocks_env = {**state_app.env(start=clock_at, frozen=True), "ARPULSE_TABLE_STORE": "rocksdb"}
    name = f"r{run.index}-rocksdb"
    first = arpulse.start_and_measure(workers, name, rocks_env, timeout)
    again = arpulse.start_and_measure(
        workers, name, rocks_env, timeout, settled_s=ROCKSDB_SETTLED_S
    )
    run.figures["rocksdb_first_start_seconds"] = first["ready_seconds"]
    run.figures["rocksdb_restart_seconds"] = again["ready_seconds"]
    run.figures["rocksdb_rss_mb"] = again["rss_mb"]
    run.details["rocksdb"] = {"first_start": first, "restart": again}
    _say(
        f"run {run.index}: RocksDB first start {first['ready_seconds']:.1f}s, restart "
        f"{again['ready_seconds']:.1f}s, RSS {again['rss_mb']:.0f} MB with state"
    )


def _attempt(run: report.RunFigures, what: str, step: Any, *args: Any) -> bool:
    """Run one phase; a broken one is recorded in the run (and the next phases go on).

    The machine's 1-minute load average after the phase goes into the details: other jobs on
    the machine slow a phase down, and this says which runs were disturbed.
    """
    try:
        step(run, *args)
    except BROKEN as exc:
        run.errors.append(f"{what}: {str(exc) or type(exc).__name__}")
        _say(f"run {run.index}: {what} failed: {run.errors[-1]}")
        return False
    finally:
        run.details.setdefault("load_avg", {})[what] = round(os.getloadavg()[0], 2)
    return True


def execute(settings: BenchSettings) -> tuple[list[report.RunFigures], dict[str, Any]]:
    """Start the stack, run everything, stop every process again."""
    ignored = [n for n in ("ARPULSE_KAFKA_BROKER", "ARPULSE_REDIS_URL") if os.environ.pop(n, None)]
    if ignored:
        print(f"bench: ignoring {', '.join(ignored)}: the bench starts its own broker and Redis")
    stack = DevStack(workdir=settings.out / "servers").start()
    workers = arpulse.Workers(
        stack.kafka_bootstrap,
        stack.redis_url,
        settings.out / "workers",
        overrides=settings.worker_overrides,
    )
    runs: list[report.RunFigures] = []
    state: dict[str, Any] = {}
    try:
        _say(f"kafka {stack.kafka_bootstrap}, redis {stack.redis_url}")
        try:
            state, state_app = seed_state(settings, stack.kafka_bootstrap)
            arpulse.mark_read_model_whole(stack.redis_url, state_app)
        except BROKEN as exc:
            state = {"error": str(exc) or type(exc).__name__}
        for index in range(1, settings.runs + 1):
            run = report.RunFigures(index)
            runs.append(run)
            if not settings.state_only:
                _attempt(run, "raw", raw_phase, settings, stack.kafka_bootstrap)
                _attempt(run, "peers", peers_phase, settings, stack.kafka_bootstrap)
                _attempt(run, "arpulse", arpulse_phases, settings, workers)
                _attempt(run, "logic", logic_phase, settings)
                _attempt(run, "direct", direct_phase, settings, stack.kafka_bootstrap)
                run.figures.update(report.ratios(run.figures))
            if "error" in state:
                run.errors.append(f"memory: the state could not be seeded: {state['error']}")
            else:
                stores = settings.state_stores.split(",")
                if "rocksdb" in stores:
                    _attempt(run, "rocksdb", rocksdb_phase, settings, workers, state, state_app)
                if "memory" in stores:
                    _attempt(run, "memory", memory_phase, settings, workers, state, state_app)
    finally:
        workers.stop_all()
        stack.stop()
    return runs, state


def _fresh_out(out: Path) -> None:
    """Remove the previous run's report, worker logs and servers (only what this tool writes)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("workers", "servers", "peers"):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in ("bench.json", "bench.png"):
        (out / name).unlink(missing_ok=True)


def write_report(
    settings: BenchSettings, runs: list[report.RunFigures], state: dict[str, Any], elapsed: float
) -> int:
    """Write bench.json and bench.png, print the table and verdicts; the exit code."""
    document = report.document(
        settings={**asdict(settings), "out": str(settings.out), "backlog": settings.backlog},
        runs=runs,
        state=state,
        elapsed_s=elapsed,
    )
    json_path = settings.out / "bench.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    chart = _chart(settings.out / "bench.png", document)
    summary = report.summarise([run.figures for run in runs])
    found = report.verdicts(summary)
    print(
        f"\narpulse bench: {len(runs)} run(s), backlog {settings.backlog} events of "
        f"{settings.customers} customers, {settings.partitions} partitions, "
        f"{state.get('customers', 0)} customers of state; {elapsed / 60:.1f} min\n"
    )
    print(report.render_table(summary))
    print("\ntargets (judged on the median):")
    print(report.render_verdicts(found))
    print(f"\nreport {json_path}" + (f", chart {chart}" if chart else ""))
    for error in document["errors"]:
        print(f"bench: BROKEN: {error}", file=sys.stderr)
    if document["errors"]:
        return 1
    if settings.strict and any(v.ok is False for v in found):
        print("bench: --strict: a target was missed", file=sys.stderr)
        return 1
    return 0


def _chart(path: Path, document: dict[str, Any]) -> Path | None:
    try:
        from tools.bench.chart import draw
    except ImportError:
        print("bench: no chart: matplotlib is missing (pip install -e '.[perf]')", file=sys.stderr)
        return None
    return draw(path, document)


def _parser() -> argparse.ArgumentParser:
    defaults = BenchSettings()
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description=(__doc__ or "").split("\n", 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--runs", type=int, default=defaults.runs, help="runs; figures are their medians")
    add("--customers", type=int, default=defaults.customers, help="customers in the backlog")
    add("--invoices", type=int, default=defaults.invoices, help="invoices per customer in it")
    add("--events", type=int, default=None, help="backlog size (default: from the two above)")
    add("--partitions", type=int, default=defaults.partitions, help="partitions of every topic")
    add(
        "--state-customers",
        type=int,
        default=defaults.state_customers,
        help="customers of state for the memory and restart figures",
    )
    add(
        "--state-sample",
        type=int,
        default=defaults.state_sample,
        help="customers whose typical history is computed (then cloned)",
    )
    add(
        "--latency-seconds",
        type=float,
        default=defaults.latency_seconds,
        help="length of the fixed load at half of the maximum",
    )
    add(
        "--latency-rate",
        type=float,
        default=defaults.latency_rate,
        help="events/s of the fixed load (the p99 target's load); 0: half of the run's maximum",
    )
    add("--seed", type=int, default=defaults.seed, help="seed of the portfolio")
    add("--out", type=Path, default=defaults.out, help="where bench.json and bench.png go")
    add("--strict", action="store_true", help="exit 1 when a target is missed")
    add(
        "--worker-setting",
        action="append",
        default=[],
        metavar="ARPULSE_NAME=VALUE",
        help="a worker setting for every worker of the bench (repeatable), e.g."
        " ARPULSE_STATE_CACHE_CUSTOMERS=0 to compare a setting's effect",
    )
    add(
        "--state-only",
        action="store_true",
        help="only the memory and restart phases, e.g. at the documented size:"
        " --state-only --state-customers 1000000",
    )
    add(
        "--state-stores",
        default=defaults.state_stores,
        help="the table stores whose restart is measured (memory, rocksdb, or both)",
    )
    add(
        "--quick",
        action="store_true",
        help="a smoke run (other options still win): "
        + ", ".join(f"{k.replace('_', '-')} {v:g}" for k, v in QUICK.items()),
    )
    return parser


def settings_from(argv: list[str] | None) -> BenchSettings:
    """The settings the command line asks for (--quick changes the defaults; options win)."""
    parser = _parser()
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**QUICK)
    options = vars(parser.parse_args(argv))
    options["worker_setting"] = tuple(options["worker_setting"])
    bad = [i for i in options["worker_setting"] if not re.fullmatch(r"ARPULSE_[A-Z0-9_]+=.*", i)]
    if bad:
        parser.error(f"--worker-setting wants ARPULSE_NAME=VALUE, got {bad[0]!r}")
    settings = BenchSettings(**options)
    sizes = (settings.runs, settings.customers, settings.invoices, settings.partitions)
    if min(sizes) < 1 or settings.state_customers < 1 or settings.state_sample < 1:
        parser.error("--runs, --customers, --invoices, --partitions and the state sizes >= 1")
    if settings.events is not None and settings.events < 1:
        parser.error("--events must be at least 1")
    if settings.latency_seconds <= 0:
        parser.error("--latency-seconds must be positive")
    if settings.latency_rate is not None and settings.latency_rate < 0:
        parser.error("--latency-rate must be positive (or 0: half of the maximum)")
    if settings.latency_rate == 0:
        settings = replace(settings, latency_rate=None)
    if not set(settings.state_stores.split(",")) <= {"memory", "rocksdb"}:
        parser.error("--state-stores takes memory, rocksdb or memory,rocksdb")
    return settings


def main(argv: list[str] | None = None) -> int:
    """Run the bench; the exit code (see the module docstring)."""
    settings = settings_from(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    _fresh_out(settings.out)
    _say(
        f"bench: {settings.runs} run(s); backlog {settings.backlog} events of "
        f"{settings.customers} customers on {settings.partitions} partitions; "
        f"{settings.state_customers} customers of state; report in {settings.out}/"
    )
    began = time.monotonic()
    try:
        runs, state = execute(settings)
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopped everything it started", file=sys.stderr)
        return 130
    except StackError as exc:
        print(f"bench: cannot start the broker or Redis: {exc}", file=sys.stderr)
        return 1
    return write_report(settings, runs, state, time.monotonic() - began)


if __name__ == "__main__":
    sys.exit(main())
