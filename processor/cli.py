"""The `arpulse` command: worker, demo, schemas, and read-model lookups."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from processor.errors import ConfigError

if TYPE_CHECKING:
    from processor.domain.policy import Policy


def _worker(args: argparse.Namespace) -> int:
    """Run one worker until SIGTERM/SIGINT."""
    import faust

    from processor.bootstrap import build_worker
    from processor.core.policy_file import load_policy
    from processor.core.settings import load_settings
    from processor.runtime.gc_tuning import tune_collector
    from processor.runtime.topics import ensure_topics
    from processor.serving.redis_client import check_redis

    settings = load_settings()
    policy = load_policy(settings.policy_file)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level != "debug":
        # Faust narrates every service start and stop at INFO; keep group joins and our own.
        for noisy in ("faust", "mode", "aiokafka"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        logging.getLogger("aiokafka.consumer.group_coordinator").setLevel(logging.INFO)
    asyncio.run(check_redis(settings))
    created = asyncio.run(ensure_topics(settings))
    if created:
        logging.getLogger("arpulse").info("created topics: %s", ", ".join(created))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    worker = build_worker(settings, policy)
    tune_collector()
    faust.Worker(
        worker.app,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    ).execute_from_commandline()
    return 0


def _schemas(args: argparse.Namespace) -> int:
    from schemas.export import SCHEMA_DIR, export, render, schema_documents

    if args.action == "export":
        for path in export():
            print(path)
        return 0
    stale = [
        name
        for name, document in schema_documents().items()
        if not (SCHEMA_DIR / name).is_file()
        or (SCHEMA_DIR / name).read_text(encoding="utf-8") != render(document)
    ]
    for name in stale:
        print(f"out of date: schemas/json/{name} (run: arpulse schemas export)", file=sys.stderr)
    return 1 if stale else 0


def _policy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from processor.core.policy_file import default_policy_text, load_policy

    if args.action == "show-default":
        print(default_policy_text(), end="")
        return 0
    policy = load_policy(Path(args.file) if args.file else None)
    print(f"policy {policy.version}: valid")
    return 0


def _customer(args: argparse.Namespace) -> int:
    from processor.core.settings import load_settings
    from processor.serving.keys import Keys
    from processor.serving.queries import read_customer
    from processor.serving.redis_client import redis_client

    settings = load_settings()

    async def lookup() -> dict[str, object] | None:
        redis = redis_client(settings)
        try:
            return await read_customer(redis, Keys(settings.redis_prefix), args.customer_id)
        finally:
            await redis.aclose()

    snapshot = asyncio.run(lookup())
    if snapshot is None:
        print(f"customer {args.customer_id!r} not found", file=sys.stderr)
        return 1
    print(json.dumps(snapshot, indent=2))
    return 0


def _report(args: argparse.Namespace) -> int:

    from processor.core.policy_file import load_policy
    from processor.core.settings import load_settings
    from processor.serving.http import report_day
    from processor.serving.keys import Keys
    from processor.serving.queries import BadRequest
    from processor.serving.redis_client import redis_client
    from processor.serving.reports import aging_csv, read_aging, read_kpis

    settings = load_settings()
    policy = load_policy(settings.policy_file)
    try:
        as_of = report_day(args.as_of, "--as-of") if args.as_of else None
    except BadRequest as exc:
        raise ConfigError(str(exc)) from None

    async def lookup() -> dict[str, Any]:
        redis = redis_client(settings)
        keys = Keys(settings.redis_prefix)
        try:
            if args.report == "aging":
                return await read_aging(redis, keys, as_of=as_of)
            return await read_kpis(
                redis,
                keys,
                policy=policy.reports,
                countback_days=policy.history.retain_days,
                as_of=as_of,
            )
        finally:
            await redis.aclose()

    report = asyncio.run(lookup())
    if args.format == "csv":
        if args.report != "aging":
            raise ConfigError("--format csv: only the aging report has a CSV form")
        print(aging_csv(report), end="")
    elif args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(_report_text(args.report, report), end="")
    return 0


def _report_text(name: str, report: dict[str, Any]) -> str:
    """A report as a terminal table: the portfolio's rows, one per currency."""
    lines = [f"{name} report as of {report['as_of']}"]
    rows: dict[str, dict[str, Any]] = report["portfolio"]
    if not rows:
        return lines[0] + ": nothing decided yet\n"
    columns = list(next(iter(rows.values())))
    if name == "kpis":
        columns = [
            "dso_countback",
            "dso_simple",
            "best_possible_dso",
            "add",
            "cei_percent",
            "over_90_share",
            "receivables",
        ]
    lines.append("currency  " + "  ".join(f"{c:>14}" for c in columns))
    for currency, row in rows.items():
        cells = "  ".join(f"{'-' if row[c] is None else row[c]!s:>14}" for c in columns)
        lines.append(f"{currency:<8}  {cells}")
    return "\n".join(lines) + "\n"


def _worklist(args: argparse.Namespace) -> int:
    from processor.core.settings import load_settings
    from processor.serving.keys import Keys
    from processor.serving.queries import BadRequest, read_worklist, worklist_query
    from processor.serving.redis_client import redis_client

    settings = load_settings()
    try:
        query = worklist_query(
            {
                "limit": str(args.limit),
                "risk_bucket": args.risk_bucket,
                "aging_bucket": args.aging_bucket,
            }
        )
    except BadRequest as exc:
        raise ConfigError(str(exc)) from None

    async def lookup() -> list[dict[str, Any]]:
        redis = redis_client(settings)
        try:
            return await read_worklist(redis, Keys(settings.redis_prefix), **query)
        finally:
            await redis.aclose()

    for row in asyncio.run(lookup()):
        segment = row.get("segment") or {}
        owed = ", ".join(f"{a} {c}" for c, a in dict(row.get("outstanding") or {}).items())
        print(
            f"{row['priority']:>3}  {row['customer_id']:<16} {segment.get('risk_bucket', '?'):<6} "
            f"{segment.get('aging_bucket', '?'):<7} {owed}"
        )
    return 0


def _projection(args: argparse.Namespace) -> int:
    from processor.core.clock import SystemClock
    from processor.core.policy_file import load_policy
    from processor.core.settings import load_settings
    from processor.serving.rebuild import rebuild_projection

    settings = load_settings()
    policy = load_policy(settings.policy_file)
    written = asyncio.run(rebuild_projection(settings, policy, SystemClock()))
    print(f"rebuilt {written} customer snapshots under '{settings.redis_prefix}:'")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from processor.core.policy_file import load_policy
    from processor.simulation.report import render
    from processor.simulation.simulate import simulate, summary

    paths = [args.policy, *([args.compare] if args.compare else [])]
    policies = [load_policy(Path(p) if p else None) for p in paths]
    until = _horizon(args.until, policies[0]) if args.until else None
    try:
        with open(args.events, "rb") as source:
            lines = source.readlines()
    except OSError as exc:
        raise ConfigError(f"events {args.events}: cannot be read ({exc.strerror})") from None
    summaries = [summary(simulate(lines, policy, until=until)) for policy in policies]
    names = [Path(p).name if p else "default policy" for p in paths]
    if args.json:
        print(json.dumps(summaries if args.compare else summaries[0], indent=2))
    else:
        print(render(summaries, names))
    if args.chart:
        from processor.simulation.chart import write_chart

        write_chart(summaries, names, Path(args.chart))
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0


def _horizon(text: str, policy: Policy) -> datetime:
    """--until: a timestamp, or a date meaning the end of that day on the policy's calendar."""
    from datetime import date, timedelta

    from processor.domain.schedule import start_of_day

    try:
        if len(text) == 10:
            return start_of_day(date.fromisoformat(text) + timedelta(days=1), policy) - timedelta(
                microseconds=1
            )
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--until {text!r}: not a date (2026-06-30) or timestamp") from None
    if moment.tzinfo is None:
        raise ConfigError(f"--until {text!r}: a timestamp needs a UTC offset")
    return moment


def _generate(args: argparse.Namespace) -> int:
    from datetime import date

    from processor.demo.portfolio import portfolio

    try:
        end = date.fromisoformat(args.end)
    except ValueError:
        raise ConfigError(f"--end {args.end!r}: not a date (2026-06-30)") from None
    for event in portfolio(
        customers=args.customers, today=end, seed=args.seed, invoices=args.invoices
    ):
        print(json.dumps(event.value, separators=(",", ":")))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from processor.demo.run import run_demo

    return run_demo(customers=args.customers, days_per_second=args.days_per_second)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="arpulse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser(
        "worker", help="run a worker (settings from ARPULSE_* variables)"
    ).set_defaults(run=_worker)

    demo = commands.add_parser(
        "demo", help="broker, Redis, a worker on a simulated clock and a synthetic portfolio"
    )
    demo.add_argument("--customers", type=int, default=200, help="portfolio size (default 200)")
    demo.add_argument(
        "--days-per-second",
        dest="days_per_second",
        type=float,
        default=1.5,
        help="simulated days per real second (default 1.5: half a year in two minutes)",
    )
    demo.set_defaults(run=_demo)

    simulate = commands.add_parser(
        "simulate", help="what-if: the decisions a policy makes over a history of events"
    )
    simulate.add_argument("events", help="input events, one JSON object per line")
    simulate.add_argument("--policy", help="policy file (default: the packaged policy)")
    simulate.add_argument("--compare", metavar="OTHER_POLICY", help="a second policy to compare")
    simulate.add_argument(
        "--until", help="run the clock to this date or timestamp (default: the last event)"
    )
    simulate.add_argument("--json", action="store_true", help="print the figures as JSON")
    simulate.add_argument(
        "--chart",
        metavar="PNG",
        help="also write DSO, CEI and cash by month as a chart (needs arpulse[charts])",
    )
    simulate.set_defaults(run=_simulate)

    generate = commands.add_parser(
        "generate", help="print a synthetic history of input events (JSON lines)"
    )
    generate.add_argument("--customers", type=int, default=200)
    generate.add_argument("--invoices", type=int, default=8, help="invoices per customer")
    generate.add_argument("--end", default="2026-06-30", help="the history ends on this date")
    generate.add_argument("--seed", type=int, default=7)
    generate.set_defaults(run=_generate)

    schema = commands.add_parser("schemas", help="the contract's JSON Schema files")
    schema.add_argument("action", choices=("export", "check"))
    schema.set_defaults(run=_schemas)

    policy = commands.add_parser("policy", help="validate a policy file or print the default")
    policy.add_argument("action", choices=("check", "show-default"))
    policy.add_argument("file", nargs="?", help="policy file (default: the packaged policy)")
    policy.set_defaults(run=_policy)

    projection = commands.add_parser("projection", help="the Redis read model")
    projection.add_argument("action", choices=("rebuild",), help="rebuild it from the changelog")
    projection.set_defaults(run=_projection)

    customer = commands.add_parser("customer", help="print one customer's snapshot from Redis")
    customer.add_argument("customer_id")
    customer.set_defaults(run=_customer)

    worklist = commands.add_parser("worklist", help="print the collections worklist from Redis")
    worklist.add_argument("--limit", type=int, default=20)
    worklist.add_argument("--risk-bucket", dest="risk_bucket")
    worklist.add_argument("--aging-bucket", dest="aging_bucket")
    worklist.set_defaults(run=_worklist)

    report = commands.add_parser(
        "report", help="print the aging report or the collection figures (DSO, CEI) from Redis"
    )
    report.add_argument("report", choices=("aging", "kpis"))
    report.add_argument("--as-of", dest="as_of", help="the day (default: the latest decided)")
    report.add_argument("--format", choices=("table", "json", "csv"), default="table")
    report.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `arpulse` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"arpulse: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
