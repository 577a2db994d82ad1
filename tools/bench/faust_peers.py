"""The bench's Faust peers: what the runtime arpulse is built on does with the same backlog.

    python -m tools.bench.faust_peers consume|ledger --broker HOST:PORT --app-id ID
        --inputs T1,T2,... --output TOPIC --partitions N --count EVENTS --result FILE

Two agents a user could write instead of arpulse, each in its own process like the worker:

- consume: a Faust agent over the input topics that only counts what it is given (Faust's own
  consumer, stream and acknowledgement path, nothing else): the runtime's ceiling;
- ledger: a naive Faust ledger: each event validated against the contract (the pydantic schemas
  arpulse validates with), one table update (the customer's open balances by invoice, kept as
  decimal strings) and one send per event (the new balance to `--output`; an invalid event to
  `--output` as a dead letter). No time order across topics, no decisions, no Redis.

Both use the worker's Faust settings where they apply (raw serializers, acks from every
replica, at-least-once, the memory store). Once `--count` events were taken (and, for the ledger,
every send acknowledged) the figures go to `--result` as JSON: events, and seconds from the first
event taken to the last. The bench then stops the process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import faust

from schemas.validation import Rejected, parse_input


class Tally:
    """Events taken, and when the first and the last were."""

    def __init__(self, count: int, result: Path) -> None:
        self.count = count
        self.result = result
        self.events = 0
        self.first: float | None = None
        self.last = 0.0

    def took(self) -> bool:
        """Count one event; True when it was the last one wanted."""
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.events += 1
        return self.events == self.count

    def write(self) -> None:
        """The figures, for the bench (written once, atomically)."""
        seconds = self.last - (self.first or self.last)
        staging = self.result.with_suffix(".part")
        staging.write_text(json.dumps({"events": self.events, "seconds": seconds}))
        staging.replace(self.result)


def build_app(options: argparse.Namespace) -> faust.App:
    """A Faust app with the worker's transport settings (processor/runtime/faust_app.py)."""
    return faust.App(
        options.app_id,
        broker=f"kafka://{options.broker}",
        store="memory://",
        autodiscover=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=options.partitions,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        processing_guarantee="at_least_once",
        web_enabled=False,
        datadir=str(options.result.parent / f"{options.app_id}-data"),
        logging_config=None,
    )


def consume_only(app: faust.App, inputs: faust.TopicT, tally: Tally) -> None:
    """The agent that only takes events."""

    @app.agent(inputs, name="peer.consume")
    async def consume(stream: faust.StreamT[Any]) -> None:
        async for _ in stream:
            if tally.took():
                tally.write()

    del consume


def naive_ledger(app: faust.App, inputs: faust.TopicT, output: faust.TopicT, tally: Tally) -> None:
    """The agent that validates, updates one table entry and sends one record per event."""
    balances = app.Table("peer-balances", default=dict, value_type=bytes, partitions=None)

    @app.agent(inputs, name="peer.ledger")
    async def ledger(stream: faust.StreamT[Any]) -> None:
        async for event in stream.events():
            parsed = parse_input(event.value)
            if isinstance(parsed, Rejected):
                out = json.dumps({"error": str(parsed.error)}).encode()
                await output.send(key=event.key, value=out)
            else:
                customer = parsed.customer_id
                raw = balances.get(customer)
                book: dict[str, str] = json.loads(raw) if raw else {}
                invoice = getattr(parsed, "invoice_id", None) or "unapplied"
                amount = getattr(parsed, "amount", None)
                if isinstance(amount, Decimal):
                    sign = -1 if parsed.event_type.startswith("payment.") else 1
                    book[invoice] = str(Decimal(book.get(invoice, "0")) + sign * amount)
                balances[customer] = json.dumps(book).encode()
                await output.send(key=event.key, value=json.dumps(book).encode())
            if tally.took():
                await app.producer.flush()
                tally.last = time.perf_counter()
                tally.write()

    del ledger


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.faust_peers")
    parser.add_argument("mode", choices=("consume", "ledger"))
    parser.add_argument("--broker", required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--inputs", required=True, help="comma-separated input topics")
    parser.add_argument("--output", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--result", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one peer until the bench stops it."""
    options = _parser().parse_args(argv)
    app = build_app(options)
    inputs = app.topic(*options.inputs.split(","), key_type=bytes, value_type=bytes)
    output = app.topic(options.output, key_type=bytes, value_type=bytes)
    tally = Tally(options.count, options.result)
    if options.mode == "consume":
        consume_only(app, inputs, tally)
    else:
        naive_ledger(app, inputs, output, tally)

    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    asyncio.set_event_loop(asyncio.new_event_loop())
    app.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
