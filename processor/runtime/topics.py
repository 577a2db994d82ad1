"""Create every topic with its partition count before anything can auto-create it.

Brokers such as Tansu auto-create an unknown topic with a default partition count the moment a
producer touches it, which silently breaks co-partitioning; so the worker declares all topics
first and refuses to start when an existing input topic has the wrong count.
"""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from processor.core.kafka_security import kafka_client_options
from processor.core.settings import Settings
from processor.errors import ConfigError
from processor.runtime.broker_diagnosis import diagnose

log = logging.getLogger(__name__)


def _certificate_hint(settings: Settings) -> str:
    """TLS 1.3 reports a missing client certificate as a closed connection: say what to set."""
    tls = settings.kafka_security_protocol in ("SSL", "SASL_SSL")
    if tls and settings.kafka_tls_cert_file is None:
        return (
            "; if its listener asks for client certificates, set ARPULSE_KAFKA_TLS_CERT_FILE and"
            " ARPULSE_KAFKA_TLS_KEY_FILE"
        )
    return ""


def topic_plan(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic name -> topic config for every topic arpulse reads, writes or keeps state in."""
    plan: dict[str, dict[str, str]] = {}
    internal = (settings.rekey_topic, settings.wake_topic)
    for name in (*settings.input_topics, *settings.output_topics, *internal):
        plan[name] = {}
    plan[settings.changelog_topic] = {"cleanup.policy": "compact"}
    # Profiles are keyed by customer and only the latest matters (contract 1.1).
    plan[settings.topic_customer_profiles] = {"cleanup.policy": "compact"}
    return plan


async def ensure_topics(settings: Settings, *, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; returns the names created. ConfigError on a partition mismatch."""
    admin = AIOKafkaAdminClient(
        **kafka_client_options(settings), request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
    except KafkaError as exc:
        with contextlib.suppress(Exception):
            await admin.close()
        problem = await diagnose(settings)
        if problem is not None:
            raise ConfigError(f"ARPULSE_KAFKA_BROKER={settings.kafka_broker}: {problem}") from None
        raise ConfigError(
            f"ARPULSE_KAFKA_BROKER={settings.kafka_broker}: cannot reach the broker ({exc})"
            f"{_certificate_hint(settings)}"
        ) from None
    try:
        plan = topic_plan(settings)
        existing = set(await admin.list_topics())
        missing = [name for name in plan if name not in existing]
        if missing:
            new = [
                NewTopic(
                    name=name,
                    num_partitions=settings.partitions,
                    replication_factor=settings.replication_factor,
                    topic_configs=plan[name],
                )
                for name in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
            log.info("created topics %s with %d partitions", missing, settings.partitions)
        await _check_partitions(admin, settings, [n for n in plan if n in existing])
        return missing
    finally:
        await admin.close()


async def _check_partitions(
    admin: AIOKafkaAdminClient, settings: Settings, names: list[str]
) -> None:
    co_partitioned = {
        *settings.input_topics,
        settings.rekey_topic,
        settings.wake_topic,
        settings.changelog_topic,
    }
    to_check = [n for n in names if n in co_partitioned]
    if not to_check:  # describe_topics([]) describes every topic on the cluster
        return
    wrong = []
    for description in await admin.describe_topics(to_check):
        count = len(description.get("partitions", []))
        if count != settings.partitions:
            wrong.append(f"{description['topic']} has {count}")
    if wrong:
        raise ConfigError(
            f"ARPULSE_PARTITIONS={settings.partitions} but {', '.join(wrong)} partitions; "
            "inputs, the re-key topic and the changelog must all have the same count"
        )
