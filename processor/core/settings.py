"""Worker settings: one frozen class, every field described, read from ARPULSE_* variables.

A bad value stops start-up with a message naming the variable (see `load_settings`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from processor.core.access import MIN_TOKEN_LENGTH, Access, token_list
from processor.errors import ConfigError, validation_problems
from schemas import topics

ENV_PREFIX = "ARPULSE_"
REDIS_SCHEMES = ("redis", "rediss", "unix")
TLS_FILES = (
    "redis_tls_ca_file",
    "redis_tls_cert_file",
    "redis_tls_key_file",
    "kafka_tls_ca_file",
    "kafka_tls_cert_file",
    "kafka_tls_key_file",
)


class Settings(BaseSettings):
    """Everything the worker can be told; each field is the env var ARPULSE_<FIELD NAME>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    kafka_broker: str = Field(
        "127.0.0.1:9092",
        description="Kafka bootstrap servers, host:port[,host:port...]; each may be written as"
        " Faust's kafka://host:port (';' also separates them)",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="how every Kafka client connects: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or"
        " SASL_SSL (SASL over TLS)",
    )
    kafka_tls_ca_file: Path | None = Field(
        None,
        description="SSL, SASL_SSL: the CA bundle (PEM) that signed the brokers' certificates;"
        " unset: the system's CAs",
    )
    kafka_tls_cert_file: Path | None = Field(
        None, description="SSL, SASL_SSL: this worker's client certificate (PEM), for mutual TLS"
    )
    kafka_tls_key_file: Path | None = Field(
        None, description="SSL, SASL_SSL: the client certificate's private key (PEM)"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL_*: the mechanism"
    )
    kafka_sasl_username: str | None = Field(None, min_length=1, description="SASL_*: the user")
    kafka_sasl_password: SecretStr | None = Field(
        None, description="SASL_*: the user's password (a secret: never logged)"
    )
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis for the read model: redis://, rediss:// (TLS) or unix://; may carry"
        " user:password@ (a secret: never logged)",
    )
    redis_username: str | None = Field(
        None, min_length=1, description="Redis ACL user (instead of the URL's)"
    )
    redis_password: SecretStr | None = Field(
        None, description="Redis password of that user (instead of the URL's)"
    )
    redis_tls_ca_file: Path | None = Field(
        None,
        description="rediss://: the CA bundle (PEM) that signed Redis's certificate; unset: the"
        " system's CAs",
    )
    redis_tls_cert_file: Path | None = Field(
        None, description="rediss://: this worker's client certificate (PEM), for mutual TLS"
    )
    redis_tls_key_file: Path | None = Field(
        None, description="rediss://: the client certificate's private key (PEM)"
    )
    redis_prefix: str = Field("arpulse", min_length=1, description="prefix of every Redis key")
    app_id: str = Field(
        "arpulse", min_length=1, description="consumer group id and prefix of internal topics"
    )
    partitions: int = Field(
        8, ge=1, le=1024, description="partitions of every input, internal and changelog topic"
    )
    replication_factor: int = Field(1, ge=1, description="replication of topics arpulse creates")
    topic_invoice_issued: str = topics.INVOICE_ISSUED
    topic_payment_received: str = topics.PAYMENT_RECEIVED
    topic_due_date_passed: str = topics.DUE_DATE_PASSED
    topic_invoice_adjustments: str = topics.INVOICE_ADJUSTMENTS
    topic_collection_updates: str = topics.COLLECTION_UPDATES
    topic_customer_profiles: str = topics.CUSTOMER_PROFILES
    topic_late_payment_flags: str = topics.LATE_PAYMENT_FLAGS
    topic_customer_segments: str = topics.CUSTOMER_SEGMENTS
    topic_collection_actions: str = topics.COLLECTION_ACTIONS
    topic_dead_letter: str = topics.DEAD_LETTER
    policy_file: Path | None = Field(
        None, description="collections policy (TOML); unset: the packaged default policy"
    )
    api_tokens: SecretStr | None = Field(
        None,
        description="bearer tokens that open the read model (customers, worklist, reports, the"
        " collector's page), comma-separated so an old and a new one overlap while a token is"
        f" rotated; each at least {MIN_TOKEN_LENGTH} characters; unset: the HTTP API listens on a"
        " loopback address only",
    )
    ops_tokens: SecretStr | None = Field(
        None,
        description="bearer tokens that open /healthz and /metrics (comma-separated); unset:"
        " those two are open, as probes and Prometheus usually expect",
    )
    web_host: str = Field("127.0.0.1", description="address of the HTTP API and /metrics")
    web_port: int = Field(6066, ge=1, le=65535, description="port of the HTTP API and /metrics")
    table_store: Literal["memory", "rocksdb"] = Field(
        "memory",
        description="where the customer table lives: memory (rebuilt from the changelog at"
        " every start) or rocksdb (on disk under data_dir: a restart reads only the changelog's"
        " tail, and memory stays bounded); the container image uses rocksdb",
    )
    data_dir: Path = Field(Path("var/arpulse"), description="worker scratch directory")
    session_timeout_seconds: float = Field(
        10.0, ge=1.0, le=300.0, description="consumer-group session timeout (Kafka needs >= 6)"
    )
    heartbeat_interval_seconds: float = Field(
        2.0, gt=0, le=60.0, description="consumer-group heartbeat; well under the session timeout"
    )
    commit_interval_seconds: float = Field(
        1.0, gt=0, le=60.0, description="how often processed offsets are committed"
    )
    fetch_max_wait_ms: int = Field(
        25, ge=1, le=5000, description="longest a consumer fetch waits for data (latency bound)"
    )
    producer_linger_ms: int = Field(
        5,
        ge=0,
        le=1000,
        description="how long the producer gathers messages into one request (fewer, larger"
        " requests under load; adds at most this much latency)",
    )
    max_payload_bytes: int = Field(
        65536, ge=1024, le=10_485_760, description="larger input payloads are dead-lettered"
    )
    clock: Literal["system", "simulated"] = Field(
        "system", description="real time, or a simulated clock for demos and tests"
    )
    simulated_start: datetime | None = Field(
        None, description="simulated clock: the instant it starts at (with an offset)"
    )
    simulated_days_per_second: float = Field(
        1.0, gt=0, le=86400, description="simulated clock: simulated days per real second"
    )
    simulated_anchor: datetime | None = Field(
        None,
        description="simulated clock: the real instant it reads simulated_start (unset: start-up);"
        " give workers and restarts the same one to share a timeline",
    )
    simulated_end: datetime | None = Field(
        None, description="simulated clock: it stops at this instant (unset: it runs on)"
    )
    ordering_max_wait_ms: int = Field(
        250,
        ge=0,
        le=60000,
        description="a message waits at most this long for another input topic whose position is"
        " not known yet (a topic known to hold older messages is waited for)",
    )
    ordering_max_stall_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="safety valve: a message waits at most this long for a topic with a backlog"
        " that delivers nothing",
    )
    batch_max_events: int = Field(
        500,
        ge=1,
        le=100000,
        description="most messages decided together before their outputs are published and"
        " waited for once (a batch is whatever is ready, so one message when idle)",
    )
    batch_linger_ms: int = Field(
        0,
        ge=0,
        le=1000,
        description="while the broker holds a full batch (batch_max_events) or more of input not"
        " yet consumed (a backlog), drain rounds start at most this often, so batches grow and"
        " share their costs (0: off); no wait otherwise",
    )
    max_buffered_events: int = Field(
        4000,
        ge=1,
        le=1000000,
        description="consumed messages held in the time-order buffer before the consumer waits"
        " for processing to catch up (back-pressure)",
    )
    state_cache_customers: int = Field(
        2048,
        ge=0,
        le=1000000,
        description="customers whose last stored state is kept decoded for their next event"
        " (about 9 KB each; 0 turns the cache off)",
    )
    scheduler_interval_ms: int = Field(
        200, ge=10, le=60000, description="how often the scheduler looks for due wake-ups"
    )
    scheduler_grace_ms: int = Field(
        500,
        ge=0,
        le=60000,
        description="a wake-up is sent once the clock read its instant this long ago, so an event"
        " produced just before it but still on its way is applied first",
    )
    scheduler_max_defer_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="wake-ups wait for their partition to catch up at most this long",
    )
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$", description="log level")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        scheme, found, _ = value.get_secret_value().partition("://")
        if scheme.lower() not in REDIS_SCHEMES:
            # The URL may hold a password: name its scheme only when it plainly is one.
            shown = f"{scheme}://" if found and scheme.isalnum() and len(scheme) <= 10 else "none"
            raise ValueError(f"must start with redis://, rediss:// (TLS) or unix://, got {shown}")
        return value

    @field_validator(*TLS_FILES)
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @model_validator(mode="after")
    def _kafka_security_is_whole(self) -> Settings:
        protocol = self.kafka_security_protocol
        tls = protocol in ("SSL", "SASL_SSL")
        self._tls_files(
            "kafka", tls, f"ARPULSE_KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL, not {protocol}"
        )
        sasl = protocol.startswith("SASL_")
        credentials = self.kafka_sasl_username is not None or self.kafka_sasl_password is not None
        if sasl and (self.kafka_sasl_username is None or self.kafka_sasl_password is None):
            raise ValueError(
                f"ARPULSE_KAFKA_SECURITY_PROTOCOL={protocol} needs ARPULSE_KAFKA_SASL_USERNAME"
                " and ARPULSE_KAFKA_SASL_PASSWORD"
            )
        if credentials and not sasl:
            raise ValueError(
                "ARPULSE_KAFKA_SASL_USERNAME/ARPULSE_KAFKA_SASL_PASSWORD need"
                f" ARPULSE_KAFKA_SECURITY_PROTOCOL SASL_PLAINTEXT or SASL_SSL, not {protocol}"
            )
        return self

    @model_validator(mode="after")
    def _redis_tls_needs_rediss(self) -> Settings:
        self._tls_files("redis", self.redis_tls, "a rediss:// ARPULSE_REDIS_URL")
        url = urlsplit(self.redis_url.get_secret_value())
        if (url.username or url.password) and (self.redis_username or self.redis_password):
            raise ValueError(
                "the user or password is given twice: in ARPULSE_REDIS_URL and in"
                " ARPULSE_REDIS_USERNAME/ARPULSE_REDIS_PASSWORD; keep one"
            )
        return self

    def _tls_files(self, service: str, tls: bool, needed: str) -> None:
        """`service`'s TLS files: only when it uses TLS, and certificate and key together."""
        names = {part: f"{service}_tls_{part}_file" for part in ("ca", "cert", "key")}
        given = [f"{ENV_PREFIX}{n.upper()}" for n in names.values() if getattr(self, n) is not None]
        if given and not tls:
            raise ValueError(f"{', '.join(given)} need {needed}")
        if (getattr(self, names["cert"]) is None) != (getattr(self, names["key"]) is None):
            cert, key = (f"{ENV_PREFIX}{names[p].upper()}" for p in ("cert", "key"))
            raise ValueError(f"{cert} and {key} go together")

    @field_validator("kafka_broker")
    @classmethod
    def _bootstrap_servers(cls, value: str) -> str:
        """host:port[,...], also from Faust's kafka:// URLs (its documentation writes them)."""
        return bootstrap_servers(value)

    @field_validator(
        "api_tokens",
        "ops_tokens",
        "redis_username",
        "redis_password",
        *TLS_FILES,
        "kafka_sasl_username",
        "kafka_sasl_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`NAME=` (as compose writes `${NAME:-}`) means the setting is not given."""
        return None if value == "" else value

    @field_validator("api_tokens", "ops_tokens")
    @classmethod
    def _tokens_are_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            token_list(value.get_secret_value())
        return value

    @field_validator("web_host")
    @classmethod
    def _open_api_only_on_loopback(cls, value: str, info: ValidationInfo) -> str:
        tokens_valid = "api_tokens" in info.data  # else that field's own error is reported
        if tokens_valid and info.data["api_tokens"] is None and not is_loopback(value):
            raise ValueError(
                f"{value} is not a loopback address and ARPULSE_API_TOKENS is unset: customer"
                " data would be open to the network; set ARPULSE_API_TOKENS, or listen on"
                " 127.0.0.1"
            )
        return value

    @property
    def redis_tls(self) -> bool:
        """Whether Redis is reached over TLS (a rediss:// URL)."""
        return self.redis_url.get_secret_value().lower().startswith("rediss://")

    @property
    def access(self) -> Access:
        """The tokens that open the read model and the ops routes (none: open)."""
        return Access(data_tokens=_tokens(self.api_tokens), ops_tokens=_tokens(self.ops_tokens))

    @model_validator(mode="after")
    def _simulated_clock_has_a_start(self) -> Settings:
        if self.clock == "simulated" and self.simulated_start is None:
            raise ValueError("simulated_start is required when clock is 'simulated'")
        for name in ("simulated_start", "simulated_anchor", "simulated_end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a UTC offset (e.g. 2026-01-05T00:00:00Z)")
        start, end = self.simulated_start, self.simulated_end
        if start is not None and end is not None and end < start:
            raise ValueError("simulated_end must not be before simulated_start")
        return self

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> Settings:
        if self.heartbeat_interval_seconds * 3 > self.session_timeout_seconds:
            raise ValueError(
                "heartbeat_interval_seconds must be at most a third of session_timeout_seconds"
            )
        return self

    @property
    def input_topics(self) -> dict[str, frozenset[str]]:
        """Input topic name -> the event types that belong on it (contract 1.1)."""
        names = {
            topics.INVOICE_ISSUED: self.topic_invoice_issued,
            topics.PAYMENT_RECEIVED: self.topic_payment_received,
            topics.DUE_DATE_PASSED: self.topic_due_date_passed,
            topics.INVOICE_ADJUSTMENTS: self.topic_invoice_adjustments,
            topics.COLLECTION_UPDATES: self.topic_collection_updates,
            topics.CUSTOMER_PROFILES: self.topic_customer_profiles,
        }
        return {names[default]: frozenset(kinds) for default, kinds in topics.EVENT_TYPES.items()}

    @property
    def output_topics(self) -> tuple[str, ...]:
        """Every topic arpulse publishes to."""
        return (
            self.topic_late_payment_flags,
            self.topic_customer_segments,
            self.topic_collection_actions,
            self.topic_dead_letter,
        )

    @property
    def rekey_topic(self) -> str:
        """Internal topic for inputs keyed or partitioned by anything but their customer_id."""
        return f"{self.app_id}-rekey"

    @property
    def wake_topic(self) -> str:
        """Internal topic the scheduler sends due wake-ups to, on the customer's partition."""
        return f"{self.app_id}-wake"

    @property
    def changelog_topic(self) -> str:
        """The customer table's changelog (compacted)."""
        return f"{self.app_id}-customers-changelog"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; ConfigError names each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = validation_problems(exc, field_name=_variable)
        raise ConfigError(f"invalid settings: {problems}") from None


def _variable(loc: Sequence[int | str]) -> str:
    """The environment variable a settings error is about."""
    if not loc:  # a rule across settings: its message names them
        return "settings"
    return f"{ENV_PREFIX}{'_'.join(str(p) for p in loc).upper()}"


def redacted_url(url: str) -> str:
    """`url` with the password of its user:password@ part replaced by ****, to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}****@{host}").geturl()


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _tokens(secret: SecretStr | None) -> tuple[str, ...]:
    return () if secret is None else token_list(secret.get_secret_value())


def bootstrap_servers(value: str) -> str:
    """Kafka bootstrap servers as `host:port,...` from `host:port` or `kafka://host:port` items.

    Items are separated by ',' or ';' (Faust's form). ValueError names what is wrong.
    """
    servers = []
    for item in (part.strip() for part in value.replace(";", ",").split(",")):
        if not item:
            continue
        scheme, found, rest = item.partition("://")
        if found:
            if scheme.lower() != "kafka":
                raise ValueError(
                    f"{scheme}:// is not a Kafka broker URL scheme (write host:port or "
                    f"kafka://host:port), got {item!r}"
                )
            item = rest.rstrip("/")
        host, colon, port = item.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"each broker must be host:port, got {item!r}")
        servers.append(f"{host}:{port}")
    if not servers:
        raise ValueError("no broker given")
    return ",".join(servers)
