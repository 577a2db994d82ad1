"""`make soak`: one worker under sustained load; throughput, lag and memory over time.

    python -m tools.soak [--minutes 10] [--rate 80] [--customers 3000] [--out build/soak]

Why: the tests prove each behaviour on a handful of events; they cannot show whether a worker
keeps up with a steady stream for a long time, or whether its memory grows with history. This
run starts its own broker and Redis (never a server the machine already runs), one `arpulse
worker` on the simulated clock at 2 business days per real second, and a fixed population of
customers billed and paying forever (tools/soak/mix.py). Each event is produced when the simulated
clock reaches its `occurred_at`, so ten real minutes cover over three years of business time.

Every few seconds it samples: events produced (acknowledged by the broker), events processed
(`arpulse_events_consumed_total` on the input topics), the worker's `arpulse_consumer_lag_messages`,
the backlog (produced minus processed), dead letters, wake-ups, processing time, the VmRSS and CPU
of the worker and of the broker, and the machine's load average. After the load it lets the worker
drain, then writes OUT/soak.json (settings, rules, samples, summary, verdicts) and OUT/soak.png
(throughput, backlog and lag, worker RSS), and prints a summary table and the verdicts:

- memory: RSS levels off if its least-squares slope over the last third of the load is at most
  10 % of the slope over the first third or at most 0.5 MB/min, and never above 2 MB/min
  (tools/soak/judge.py). A worker whose state grows with each customer's history fails this.
- lag: the worker cannot keep up if, over the second half of the load, the backlog rises by more
  than 1 % of the rate per second and ends above 10 s worth of input. The backlog, not the lag
  metric, is judged: the metric counts only messages not yet fetched, and misses those waiting in
  the worker's stream and time-order buffers. The worker must also drain within a minute.
- dead letters: every invalid message ends on the dead-letter topic.

Exit code 0 when all hold, 1 when any fails or the worker dies (the report is written anyway),
2 for bad arguments, 130 on Ctrl-C or SIGTERM. Every process it started is stopped in every case.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.errors import KafkaError

from processor.core.clock import SimulatedClock
from processor.demo.devstack import DevStack, StackError
from schemas import topics
from tools.soak import judge
from tools.soak.judge import Sample, Verdict
from tools.soak.mix import EventMix, Outgoing
from tools.soak.worker import RunAborted, Scrape, SoakWorker, child_named

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; business time starts here
PARTITIONS = 4
STARTUP_S = 20.0  # the worker joins its group before the simulated clock reaches START
DRAIN_TIMEOUT_S = 60.0
PROGRESS_EVERY_S = 30.0
MAX_SCRAPE_FAILURES = 3  # a worker too busy to answer /metrics this often in a row is stuck
# On Ctrl-C the terminal also stops the broker, and a producer stop would wait for ever to flush
# to it: broker calls at the end get this long, then the run ends anyway.
BROKER_CALL_TIMEOUT_S = 5.0
PRODUCE_GRACE_S = 30.0  # a producer this far past its deadline is stuck on an unreachable broker
# Customers' histories fill for about the first year of business time (invoices, payments, the
# behaviour and value windows are a year long), so memory is judged fairly only after more.
HISTORY_FILL_DAYS = 400


@dataclass(frozen=True, slots=True)
class SoakSettings:
    """What one soak run does (the command-line options)."""

    minutes: float = 10.0
    # Measured on the 2-core build machine (shared with other jobs): the worker waits for the
    # broker's acknowledgement per event at concurrency 1, so it is bound by latency, not CPU
    # (about half a core). It kept up with 120/s for ~3.5 min and 300/s not at all (~170/s);
    # the dev broker keeps every message in memory and slows as it grows (per-event time 4 ms
    # at the start, 15 ms after 10 min). 80/s keeps the backlog small and flat for 10 minutes.
    rate: float = 80.0
    customers: int = 3000
    out: Path = Path("build/soak")
    days_per_second: float = 2.0
    interval: float = 5.0
    seed: int = 7
    invalid_share: float = 0.01


@dataclass
class Tally:
    """Messages the broker acknowledged (the soak's own count of what it produced)."""

    produced: int = 0
    invalid: int = 0
    failed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def acked(self, event: Outgoing, future: asyncio.Future[Any]) -> None:
        """Producer callback: count one message once the broker has it."""
        if future.cancelled() or future.exception() is not None:
            self.failed += 1
            return
        self.produced += 1
        self.invalid += not event.valid
        self.kinds[event.kind] += 1


@dataclass
class Outcome:
    """What a run observed, for the report."""

    samples: list[Sample]
    tally: Tally
    dead_letter_topic: int = 0
    error: str | None = None
    ready_seconds: float = 0.0
    worker_exit: int | None = None
    worker_error: str | None = None  # the log's last exception when the stop was not clean


class Probe:
    """Takes samples of the worker and the tally, on the run's time axis."""

    def __init__(self, worker: SoakWorker, tally: Tally, clock: SimulatedClock, t0: float) -> None:
        self.worker, self.tally, self.clock, self.t0 = worker, tally, clock, t0
        assert worker.stats is not None, "start the worker first"
        self.stats = worker.stats
        self.broker = child_named("tansu")  # to tell a slow worker from a slow broker
        self.inputs = frozenset(topics.INPUT_TOPICS)
        self.samples: list[Sample] = []
        self._failures = 0

    def _measure(self) -> tuple[Scrape, tuple[float, float], tuple[float, float]]:
        self.worker.check_alive()
        if self.broker is not None and not self.broker.alive():
            raise RunAborted("the broker exited; the soak cannot go on without it")
        scrape = self.worker.scrape(self.inputs)
        worker = (self.stats.rss_mb(), self.stats.cpu_percent())
        return scrape, worker, self._broker_stats()

    def _broker_stats(self) -> tuple[float, float]:
        """The broker's RSS and CPU; zeros if it is not ours or has gone (Ctrl-C stops it first)."""
        try:
            return (self.broker.rss_mb(), self.broker.cpu_percent()) if self.broker else (0.0, 0.0)
        except OSError:
            return 0.0, 0.0

    def restart_cpu(self) -> None:
        """Count CPU from now on (start-up and group join are not the load's)."""
        for stats in (self.stats, self.broker):
            if stats is not None:
                stats.cpu_percent()

    async def take(self, phase: str) -> Sample | None:
        """One sample; None if /metrics did not answer (RunAborted after too many misses)."""
        try:
            scrape, (rss, cpu), (broker_rss, broker_cpu) = await asyncio.to_thread(self._measure)
        except OSError as exc:
            self._failures += 1
            if self._failures >= MAX_SCRAPE_FAILURES:
                raise RunAborted(f"the worker stopped answering /metrics ({exc})") from exc
            return None
        self._failures = 0
        sample = Sample(
            t=round(time.time() - self.t0, 3),
            phase=phase,
            business_time=self.clock.now().isoformat(timespec="seconds"),
            produced=self.tally.produced,
            invalid_produced=self.tally.invalid,
            processed=scrape.processed,
            lag=scrape.lag,
            dead_letters=scrape.dead_letters,
            rss_mb=round(rss, 1),
            cpu_percent=round(cpu, 1),
            wakeups=scrape.wakeups,
            processing_seconds=round(scrape.processing_seconds, 3),
            load_avg=round(os.getloadavg()[0], 2),
            broker_rss_mb=round(broker_rss, 1),
            broker_cpu_percent=round(broker_cpu, 1),
        )
        self.samples.append(sample)
        return sample

    async def every(self, interval: float, phase: str) -> None:
        """Sample on a fixed grid (t0 + k * interval) until cancelled; progress every 30 s."""
        printed = -PROGRESS_EVERY_S
        while True:
            sample = await self.take(phase)
            if sample is not None and sample.t - printed >= PROGRESS_EVERY_S:
                printed = sample.t
                _progress(sample)
            elapsed = time.time() - self.t0
            await asyncio.sleep(interval - elapsed % interval)


def _progress(s: Sample) -> None:
    print(
        f"  {s.t / 60:5.1f} min  {s.business_time[:10]}  produced {s.produced:>8}  "
        f"processed {s.processed:>8}  backlog {s.backlog:>6}  lag {s.lag:>6}  "
        f"RSS {s.rss_mb:6.0f} MB  CPU {s.cpu_percent:3.0f}%  load {s.load_avg:4.1f}  ({s.phase})",
        flush=True,
    )


async def _produce(
    producer: AIOKafkaProducer, mix: EventMix, clock: SimulatedClock, deadline: float, tally: Tally
) -> None:
    """Send each event when the simulated clock reaches it, until the real-time deadline."""
    for sent, event in enumerate(mix):
        wait = clock.real_seconds_until(event.at)
        if time.time() + max(wait, 0.0) >= deadline:
            return
        if wait > 0:
            await asyncio.sleep(wait)
        elif sent % 200 == 0:
            await asyncio.sleep(0)  # behind schedule: still let the sampler run
        future = await producer.send(event.topic, key=event.key.encode(), value=event.value)
        future.add_done_callback(functools.partial(tally.acked, event))


async def _load(probe: Probe, settings: SoakSettings, producer: AIOKafkaProducer) -> None:
    """Produce at the target rate for `settings.minutes`, sampling throughout."""
    mix = EventMix(
        customers=settings.customers,
        rate=settings.rate,
        days_per_second=settings.days_per_second,
        start=START,
        seed=settings.seed,
        invalid_share=settings.invalid_share,
    )
    deadline = probe.t0 + settings.minutes * 60
    sampling = asyncio.create_task(probe.every(settings.interval, "load"))
    producing = asyncio.create_task(_produce(producer, mix, probe.clock, deadline, probe.tally))
    try:
        done, _ = await asyncio.wait(
            {sampling, producing},
            timeout=max(0.0, deadline - time.time()) + PRODUCE_GRACE_S,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not done:
            raise RunAborted("the producer is stuck: the broker stopped taking messages")
        for task in done:
            task.result()  # RunAborted from the sampler, KafkaError from the producer
        await producer.flush()
    finally:
        for task in (sampling, producing):
            task.cancel()
        await asyncio.gather(sampling, producing, return_exceptions=True)
    await probe.take("load")  # the load's last sample, right at its end


async def _drain(probe: Probe, interval: float) -> None:
    """Sample until the worker has processed everything produced (or DRAIN_TIMEOUT_S passes)."""
    until = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < until:
        await asyncio.sleep(interval)
        sample = await probe.take("drain")
        if (
            sample
            and sample.processed >= sample.produced
            and sample.dead_letters >= sample.invalid_produced
        ):
            _progress(sample)
            return
    if probe.samples:
        _progress(probe.samples[-1])


async def _dead_letter_count(bootstrap: str) -> int:
    """Messages on the dead-letter topic (only this run's worker writes on this private broker)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topics.DEAD_LETTER, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def _drive(probe: Probe, settings: SoakSettings, bootstrap: str, outcome: Outcome) -> None:
    """The load, then the drain; a dying worker or broker ends it early with `outcome.error`."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        await producer.start()
        await asyncio.sleep(max(0.0, probe.t0 - time.time()))
        probe.restart_cpu()  # count CPU from here, not from start-up
        await probe.take("load")  # the baseline, as the simulated clock starts
        await _load(probe, settings, producer)
        print("load done; letting the worker drain", flush=True)
        await _drain(probe, settings.interval)
        outcome.dead_letter_topic = await asyncio.wait_for(
            _dead_letter_count(bootstrap), BROKER_CALL_TIMEOUT_S
        )
    except (RunAborted, KafkaError, OSError) as exc:
        outcome.error = str(exc) or type(exc).__name__
    finally:
        await _stop_producer(producer)


async def _stop_producer(producer: AIOKafkaProducer) -> None:
    """Stop the producer, giving up after BROKER_CALL_TIMEOUT_S (a dead broker never acks)."""
    try:
        await asyncio.wait_for(producer.stop(), BROKER_CALL_TIMEOUT_S)
    except (TimeoutError, KafkaError, OSError):
        print("soak: the producer could not flush to the broker; stopping anyway", file=sys.stderr)


def _private_stack(workdir: Path) -> DevStack:
    """A broker and Redis of the soak's own; a given ARPULSE_KAFKA_BROKER/REDIS_URL is ignored."""
    ignored = [n for n in ("ARPULSE_KAFKA_BROKER", "ARPULSE_REDIS_URL") if os.environ.pop(n, None)]
    if ignored:
        print(f"soak: ignoring {', '.join(ignored)}: the soak starts its own broker and Redis")
    return DevStack(workdir=workdir).start()


def _worker_env(settings: SoakSettings, anchor: datetime) -> dict[str, str]:
    app_id = f"arpulse-soak-{int(time.time())}"
    return {
        "ARPULSE_APP_ID": app_id,
        "ARPULSE_REDIS_PREFIX": app_id,
        "ARPULSE_PARTITIONS": str(PARTITIONS),
        "ARPULSE_SESSION_TIMEOUT_SECONDS": "6",
        "ARPULSE_HEARTBEAT_INTERVAL_SECONDS": "1",
        "ARPULSE_CLOCK": "simulated",
        "ARPULSE_SIMULATED_START": START.isoformat(),
        "ARPULSE_SIMULATED_DAYS_PER_SECOND": str(settings.days_per_second),
        "ARPULSE_SIMULATED_ANCHOR": anchor.isoformat(),
        "ARPULSE_SCHEDULER_INTERVAL_MS": "50",
    }


def _fresh_run_dir(out: Path) -> None:
    """Remove the previous run's report, worker data and logs (only what this tool writes).

    A run that ends too early for a chart must not leave the last run's chart looking current.
    """
    out.mkdir(parents=True, exist_ok=True)
    for name in ("worker-data", "servers"):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in ("worker.log", "soak.json", "soak.png"):
        (out / name).unlink(missing_ok=True)


def run(settings: SoakSettings) -> Outcome:
    """Start the stack and the worker, drive the load, and stop everything again."""
    _fresh_run_dir(settings.out)
    stack = _private_stack(settings.out / "servers")
    outcome = Outcome(samples=[], tally=Tally())
    try:
        anchor = datetime.now(UTC) + timedelta(seconds=STARTUP_S)
        clock = SimulatedClock(start=START, days_per_second=settings.days_per_second, anchor=anchor)
        worker = SoakWorker(
            kafka=stack.kafka_bootstrap,
            redis_url=stack.redis_url,
            workdir=settings.out,
            env=_worker_env(settings, anchor),
        )
        print(f"kafka {stack.kafka_bootstrap}, redis {stack.redis_url}, worker {worker.url}")
        try:
            outcome.ready_seconds = worker.start().wait_ready()
            if datetime.now(UTC) > anchor:
                print("soak: warning: the worker was ready only after the clock started")
            probe = Probe(worker, outcome.tally, clock, anchor.timestamp())
            outcome.samples = probe.samples
            asyncio.run(_drive(probe, settings, stack.kafka_bootstrap, outcome))
        except RunAborted as exc:
            outcome.error = str(exc)
        finally:
            outcome.worker_exit = worker.stop()
            if outcome.worker_exit != 0:
                outcome.worker_error = worker.last_error()
    finally:
        stack.stop()
    return outcome


def verdicts(settings: SoakSettings, outcome: Outcome) -> list[Verdict]:
    """Every judgement on the run (see tools/soak/judge.py for the rules)."""
    found = []
    if outcome.error:
        found.append(Verdict("worker", False, f"the run ended early: {outcome.error}"))
    if outcome.tally.failed:
        found.append(Verdict("producer", False, f"{outcome.tally.failed} sends failed"))
    found.append(judge.judge_lag(outcome.samples, settings.rate))
    if not outcome.error:
        found.append(judge.judge_drain(outcome.samples))
        found.append(judge.judge_dead_letters(outcome.tally.invalid, outcome.dead_letter_topic))
    found.append(judge.judge_memory(outcome.samples))
    return found


def summary(settings: SoakSettings, outcome: Outcome) -> dict[str, Any]:
    """The figures a reader wants first: sustained rate, lag, RSS at start, middle and end."""
    load = judge.load_samples(outcome.samples)
    if len(load) < 2:
        return {"samples": len(load)}
    middle = min(load, key=lambda s: abs(s.t - load[-1].t / 2))
    steady = judge.window(outcome.samples, 1 / 3, 1)
    first, last = judge.rss_slopes(outcome.samples)
    return {
        "business_time": [load[0].business_time, load[-1].business_time],
        "produced": outcome.tally.produced,
        "invalid_produced": outcome.tally.invalid,
        "mix": dict(sorted(outcome.tally.kinds.items())),
        "dead_letter_topic_messages": outcome.dead_letter_topic,
        "sustained_processed_per_s": round(
            judge.rate_between(steady[0], steady[-1], "processed"), 1
        ),
        "lag_metric_max": max(s.lag for s in load),
        "backlog_max": max(s.backlog for s in load),
        "backlog_end_of_load": load[-1].backlog,
        "rss_mb": {"start": load[0].rss_mb, "middle": middle.rss_mb, "end": load[-1].rss_mb},
        "rss_slope_mb_per_min": {"first_third": round(first, 3), "last_third": round(last, 3)},
        "thirds": judge.thirds(outcome.samples),
        "worker_ready_seconds": round(outcome.ready_seconds, 1),
        "worker_exit_code": outcome.worker_exit,
        "worker_last_error": outcome.worker_error,
    }


def _title(settings: SoakSettings, figures: dict[str, Any]) -> str:
    span = figures.get("business_time", ["?", "?"])
    return (
        f"arpulse soak: {settings.minutes:g} min at {settings.rate:g} events/s, "
        f"{settings.customers} customers, {settings.days_per_second:g} simulated days/s "
        f"(business time {span[0][:10]} to {span[1][:10]})"
    )


def report(settings: SoakSettings, outcome: Outcome) -> int:
    """Write soak.json and soak.png, print the table and verdicts; the exit code."""
    found = verdicts(settings, outcome)
    figures = summary(settings, outcome)
    document = {
        "settings": {**asdict(settings), "out": str(settings.out), "start": START.isoformat()},
        "rules": {"memory": judge.MEMORY_RULE, "lag": judge.LAG_RULE},
        "summary": figures,
        "verdicts": [asdict(v) for v in found],
        "samples": [{**asdict(s), "backlog": s.backlog} for s in outcome.samples],
    }
    json_path = settings.out / "soak.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\n{_title(settings, figures)}\n")
    print(judge.render_table(judge.thirds(outcome.samples)))
    if "rss_mb" in figures:
        rss = figures["rss_mb"]
        print(
            f"\nsustained {figures['sustained_processed_per_s']} events/s processed; "
            f"backlog max {figures['backlog_max']} (worker lag metric max "
            f"{figures['lag_metric_max']}); RSS {rss['start']:.0f} -> {rss['middle']:.0f} -> "
            f"{rss['end']:.0f} MB (start, middle, end)"
        )
    print(f"\nrules: {judge.MEMORY_RULE};\n       {judge.LAG_RULE}.\n")
    for verdict in found:
        print(f"  {'ok  ' if verdict.ok else 'FAIL'} {verdict.name}: {verdict.message}")
    if outcome.worker_exit not in (0, None):
        print(
            f"  note worker stop (not judged): exit code {outcome.worker_exit} after SIGTERM; "
            f"last error: {outcome.worker_error or 'none logged'} ({settings.out}/worker.log)"
        )
    memory = next(v for v in found if v.name == "memory")
    chart = _chart(settings, outcome.samples, figures, memory)
    print(f"\nreport {json_path}" + (f", chart {chart}" if chart else ""))
    failed = [v for v in found if not v.ok]
    if not memory.ok and _business_days(outcome.samples) < HISTORY_FILL_DAYS:
        print(
            f"soak: hint: this load covered only {_business_days(outcome.samples):.0f} business "
            f"days; histories fill for about a year, so judge memory on a longer run "
            f"(the default 10 minutes cover over 3 years)",
            file=sys.stderr,
        )
    for verdict in failed:
        print(f"soak: FAILED: {verdict.message}", file=sys.stderr)
    return 1 if failed else 0


def _business_days(samples: list[Sample]) -> float:
    """Business time the load covered, in days."""
    load = judge.load_samples(samples)
    if len(load) < 2:
        return 0.0
    first, last = (datetime.fromisoformat(s.business_time) for s in (load[0], load[-1]))
    return (last - first).total_seconds() / 86400


def _chart(
    settings: SoakSettings, samples: list[Sample], figures: dict[str, Any], memory: Verdict
) -> Path | None:
    if len(samples) < 2:
        return None
    try:
        from tools.soak.chart import draw
    except ImportError:
        print("soak: no chart: matplotlib is missing (pip install -e '.[perf]')", file=sys.stderr)
        return None
    title = _title(settings, figures)
    return draw(settings.out / "soak.png", samples, rate=settings.rate, title=title, memory=memory)


def _parser() -> argparse.ArgumentParser:
    defaults = SoakSettings()
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak",
        description=__doc__.split("\n", 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--minutes", type=float, default=defaults.minutes, help="real minutes of load")
    add("--rate", type=float, default=defaults.rate, help="input events per real second")
    add("--customers", type=int, default=defaults.customers, help="fixed population size")
    add("--out", type=Path, default=defaults.out, help="where soak.json and soak.png go")
    add(
        "--days-per-second",
        dest="days_per_second",
        type=float,
        default=defaults.days_per_second,
        help="simulated business days per real second",
    )
    add("--interval", type=float, default=defaults.interval, help="seconds between samples")
    add("--seed", type=int, default=defaults.seed, help="seed of the event mix")
    return parser


def _settings(argv: list[str] | None) -> SoakSettings:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0 or args.customers < 1 or args.interval <= 0:
        parser.error("--minutes, --rate and --interval must be positive, --customers at least 1")
    if args.days_per_second <= 0:
        parser.error("--days-per-second must be positive")
    return SoakSettings(**vars(args))


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C, so the same clean-up stops what was started."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run one soak; the exit code (see the module docstring)."""
    settings = _settings(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(
        f"soak: {settings.minutes:g} min at {settings.rate:g} events/s, {settings.customers} "
        f"customers, {settings.days_per_second:g} simulated days/s from {START.date()}; "
        f"report in {settings.out}/",
        flush=True,
    )
    try:
        outcome = run(settings)
    except KeyboardInterrupt:
        print("\nsoak: interrupted; stopped everything it started", file=sys.stderr)
        return 130
    except StackError as exc:
        print(f"soak: cannot start the broker or Redis: {exc}", file=sys.stderr)
        return 1
    return report(settings, outcome)


if __name__ == "__main__":
    sys.exit(main())
