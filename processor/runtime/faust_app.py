"""The Faust app and its adapters: the table as the pipeline's store, the producer as its outbox.

Faust is only the transport here: it consumes the input topics, keeps the changelog-backed table
and commits offsets; every decision is made by `EventProcessor` and the pure domain behind it.
`register` attaches the worker's agents, background loops and partition callbacks to the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust

from processor.core.kafka_security import kafka_ssl_context
from processor.core.settings import Settings
from processor.runtime.broker_watch import watch_broker
from processor.runtime.drain import consumer_agent, drain_loop, wake_agent
from processor.runtime.faust_adapter import correct_recovery_end_offsets, set_fetch_max_wait
from processor.runtime.read_model_heal import heal_loop
from processor.runtime.scheduling import scheduler_loop
from processor.runtime.worker import Worker


class TableStore:
    """The Faust table as the pipeline's state store (keys and values are bytes)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: bytes) -> bytes | None:
        """The stored state for `key`."""
        value = self._table.get(key)
        return None if value is None else bytes(value)

    def put(self, key: bytes, value: bytes) -> None:
        """Reassign the key: Faust writes a changelog record only on assignment."""
        self._table[key] = value


class FaustOutbox:
    """Sends through the app's producer (the topics exist: the worker creates them at start)."""

    def __init__(self, app: faust.App) -> None:
        self._app = app

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        """Queue a message; the returned future resolves when the broker acknowledged it.

        Straight to the producer, not through a Faust topic: its channel machinery (codecs,
        callbacks, a future wrapper per message) is a tenth of a batch's cost and adds nothing
        for bytes in, bytes out.
        """
        future: Awaitable[object] = await self._app.producer.send(
            topic, key, value, partition, None, list(headers) or None
        )
        return future


def build_faust_app(settings: Settings) -> faust.App:
    """A Faust app configured for fast group joins, at-least-once delivery and bytes everywhere."""
    set_fetch_max_wait(settings.fetch_max_wait_ms)
    correct_recovery_end_offsets()
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{host}" for host in settings.kafka_broker.split(",")],
        broker_credentials=broker_credentials(settings),
        store=f"{settings.table_store}://",
        autodiscover=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=settings.producer_linger_ms / 1000,
        processing_guarantee="at_least_once",
        stream_wait_empty=False,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # Faust's own pages: /table reads table values (every customer's state) and /router,
        # the statistics and the graph describe the cluster; arpulse serves none of them.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        datadir=str(settings.data_dir),
        logging_config=None,
    )


def broker_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """Faust's credentials for the settings' security protocol (None: PLAINTEXT).

    The same TLS context and SASL user as every other client (`kafka_client_options`).
    """
    protocol = settings.kafka_security_protocol
    context = kafka_ssl_context(settings)
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=None if password is None else password.get_secret_value(),
            ssl_context=context,
            mechanism=settings.kafka_sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


# RocksDB's memory, bounded: its defaults (64 MB write buffers, three of them, per partition
# database, and a 2 GB block cache for each in Faust's defaults) grow to gigabytes with millions of
# customers; these keep a worker of 8 partitions and a million customers in a few hundred MB.
ROCKSDB_OPTIONS: dict[str, Any] = {
    "driver": "rocksdict",
    "write_buffer_size": 8 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "block_cache_size": 16 * 1024 * 1024,
    "max_open_files": 500,
    "target_file_size_base": 32 * 1024 * 1024,
}


def customer_table(app: faust.App, settings: Settings) -> Any:
    """The changelog-backed table of customer states (bytes to bytes)."""
    options = dict(ROCKSDB_OPTIONS) if settings.table_store == "rocksdb" else None
    return app.Table(
        "customers",
        default=None,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        options=options,
    )


def register(
    worker: Worker,
    *,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    loops: Sequence[Callable[[], Awaitable[None]]] = (),
) -> None:
    """Attach the agents, the background loops and the partition callbacks to the app.

    `on_stop` runs before shutdown, after the projection has written what is pending; `loops`
    are more background tasks (the report gauges' refresh).
    """
    settings, app = worker.settings, worker.app
    sources = [*settings.input_topics, settings.rekey_topic]
    inputs = app.topic(
        *sources,
        partitions=settings.partitions,
        allow_empty=True,
        key_serializer="raw",
        value_serializer="raw",
    )
    app.agent(inputs, name="arpulse.consume", concurrency=1)(consumer_agent(worker))
    wake_topic = app.topic(
        settings.wake_topic,
        partitions=settings.partitions,
        allow_empty=True,
        key_serializer="raw",
        value_serializer="raw",
    )
    app.agent(wake_topic, name="arpulse.wake", concurrency=1)(wake_agent(worker))

    async def start_projection() -> None:
        await worker.projection.start()

    async def watch() -> None:
        await watch_broker(worker)

    async def schedule() -> None:
        await scheduler_loop(worker)

    async def drain() -> None:
        await drain_loop(worker)

    async def heal() -> None:
        await heal_loop(worker)

    async def forget_revoked(app: faust.App, revoked: Any, **kwargs: Any) -> None:
        worker.revoked({tp.partition for tp in revoked})

    async def stop_projection(app: faust.App, **kwargs: Any) -> None:
        await worker.projection.stop()
        if on_stop is not None:
            await on_stop()

    for task in (start_projection, watch, schedule, drain, heal, *loops):
        app.task(task)
    # Faust's signal types ask for receivers that take a `signal` keyword; its senders pass it
    # among **kwargs, which these take.
    revoked_signal: Any = app.on_partitions_revoked
    revoked_signal.connect(forget_revoked)
    shutdown_signal: Any = app.on_before_shutdown
    shutdown_signal.connect(stop_projection)
