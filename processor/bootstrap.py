"""The composition root: settings and policy in, a wired worker out; nothing connects yet.

Every part of the running worker is built here, and only here: the Faust app and its table, the
metrics, the clock, the Redis projection and its HTTP handlers, the pipeline, the wake-up index
and the scheduler. Tests pass their own clock, metrics or projection; the rest is the product's.
"""

from __future__ import annotations

from processor.core.access import Scope
from processor.core.clock import Clock, clock_from
from processor.core.metrics import Metrics, build_metrics
from processor.core.ordering import Reorderer
from processor.core.pipeline import EventProcessor
from processor.core.ports import ProjectionService
from processor.core.scheduler import Scheduler, WakeIndex
from processor.core.settings import Settings
from processor.core.wakes import WakePlanner
from processor.domain.policy import Policy
from processor.runtime.faust_app import (
    FaustOutbox,
    TableStore,
    build_faust_app,
    customer_table,
    register,
)
from processor.runtime.inbox import Inbox
from processor.runtime.offsets import Offsets
from processor.runtime.scheduling import WakeSender
from processor.runtime.web_server import register_pages
from processor.runtime.worker import Worker
from processor.serving.freshness import Freshness
from processor.serving.http import ReadModelHandlers
from processor.serving.keys import Keys
from processor.serving.openapi import openapi_route
from processor.serving.page import CollectorPage
from processor.serving.projection import RedisProjection
from processor.serving.redis_client import redis_client
from processor.serving.report_gauges import ReportGauges


def build_clock(settings: Settings) -> Clock:
    """The clock the settings ask for (real time, or a simulated one for demos and tests)."""
    return clock_from(
        settings.clock,
        start=settings.simulated_start,
        days_per_second=settings.simulated_days_per_second,
        anchor=settings.simulated_anchor,
        end=settings.simulated_end,
    )


def build_worker(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    projection: ProjectionService | None = None,
) -> Worker:
    """Wire a worker; nothing connects until the Faust worker starts."""
    app = build_faust_app(settings)
    metrics = metrics or build_metrics()
    clock = clock or build_clock(settings)
    redis = redis_client(settings)
    keys = Keys(settings.redis_prefix)

    def count_flush(size: int, ok: bool) -> None:
        metrics.projection_writes.labels("ok" if ok else "failed").inc()

    projection = projection or RedisProjection(redis=redis, keys=keys, on_flush=count_flush)
    metrics.projection_pending.set_function(lambda: projection.pending)
    metrics.redis_up.set_function(lambda: 1.0 if projection.healthy else 0.0)

    wakes = WakeIndex()
    metrics.scheduled.set_function(lambda: float(len(wakes)))
    table = customer_table(app, settings)
    outbox = FaustOutbox(app)
    offsets = Offsets(app=app, inputs=settings.input_topics, rekey_topic=settings.rekey_topic)
    ordering = Reorderer(
        [*settings.input_topics, settings.rekey_topic],
        caught_up=offsets.delivered_all,
        max_wait=settings.ordering_max_wait_ms / 1000,
        max_stall=settings.ordering_max_stall_seconds,
        grace=(settings.fetch_max_wait_ms + 20) / 1000,  # one fetch, and a margin
    )
    scheduler = Scheduler(
        index=wakes,
        clock=clock,
        send_wake=WakeSender(outbox=outbox, topic=settings.wake_topic),
        caught_up=offsets.caught_up,
        max_defer_seconds=settings.scheduler_max_defer_seconds,
        grace_seconds=settings.scheduler_grace_ms / 1000,
    )
    processor = EventProcessor(
        settings=settings,
        policy=policy,
        clock=clock,
        metrics=metrics,
        store=TableStore(table),
        outbox=outbox,
        projection=projection,
        on_scheduled=wakes.set,
    )
    worker = Worker(
        settings=settings,
        policy=policy,
        app=app,
        metrics=metrics,
        projection=projection,
        processor=processor,
        table=table,
        clock=clock,
        wakes=wakes,
        planner=WakePlanner(policy),
        scheduler=scheduler,
        offsets=offsets,
        inbox=Inbox(ordering=ordering),
    )
    gauges = ReportGauges(redis=redis, keys=keys, policy=policy)
    metrics.registry.register(gauges)
    register(worker, on_stop=redis.aclose, loops=(gauges.run,))
    freshness = Freshness(redis=redis, keys=keys, partitions=settings.partitions)
    routes = ReadModelHandlers(redis=redis, keys=keys, policy=policy, freshness=freshness)
    page = CollectorPage(redis=redis, keys=keys, freshness=freshness)
    access = settings.access
    register_pages(
        worker,
        routes.routes() | page.routes(),
        access=access,
        public=openapi_route(
            data_guarded=access.guarded(Scope.DATA), ops_guarded=access.guarded(Scope.OPS)
        ),
    )
    return worker
