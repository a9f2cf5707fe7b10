"""One validated settings object, read from a TOML file and the environment (``CDP_*``).

Precedence, highest first: command-line options, environment variables (``CDP_DATA_DIR``,
``CDP_LIFECYCLE__CHURN_INACTIVE_DAYS``, ...), the config file (``--config``, ``CDP_CONFIG``, or
``cdp.toml`` in the data directory), then the defaults, which follow docs/domain.md. The
projections' rules (identity, lifecycle, tags, value, ...) are their own pydantic models, embedded
here as they are: each is defined and documented once, next to its projection.
"""

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, ValidationError, create_model, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from cdp.errors import ConfigError
from ingestion.track_mapping import IngestionRules
from projections.churn import ChurnRules
from projections.identity import IdentityRules
from projections.lifecycle import LifecycleRules
from projections.loyalty import LoyaltyRules
from projections.profile import ProfileRules
from projections.satisfaction import SatisfactionRules
from projections.service import ServiceRules
from projections.tags.rules import TagRules
from projections.triggers import TriggerRules
from projections.value import ValueRules
from schemas import describe
from schemas.envelope import EARLIEST
from schemas.payloads.consent import PURPOSES

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


class PostgresSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "cdp"
    user: str = "cdp"
    password: SecretStr = SecretStr("")


class EventStoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["sqlite", "postgres"] = "sqlite"
    postgres: PostgresSettings = PostgresSettings()


class EmbeddedServerSettings(BaseModel):
    """The ClickHouse server the platform manages on the embedded default (``cdp.warehouse.managed``, docs/bi.md)."""

    model_config = ConfigDict(extra="forbid")

    tcp_port: Annotated[int, Field(ge=0, le=65535)] = 0  # native protocol on 127.0.0.1; 0: a free port chosen on first start and kept
    http_port: Annotated[int, Field(ge=0, le=65535)] = 0  # HTTP (clickhouse-connect, Superset, Metabase, Grafana); 0: chosen once and kept
    idle_stop_seconds: Annotated[float, Field(gt=0)] = 10  # stops after this long with no client connected (unless `cdp warehouse start` pinned it)
    # limits of the reading users (`cdp sql`, the HTTP query doors, BI tools): per query
    query_max_seconds: PositiveInt = 60
    query_max_memory_bytes: PositiveInt = 4 * 1024**3
    query_max_concurrent: PositiveInt = 8  # queries of one reading user at once (a BI dashboard's charts run together); past it refused
    # Without Linux's Landlock (5.13+) the server cannot be confined to its own files, and any query could read
    # any file this OS user can (cdp.warehouse.confinement); it then refuses to start unless this is true.
    allow_unconfined: bool = False


class WarehouseSettings(BaseModel):
    """``embedded``: a ClickHouse server the platform starts for the data directory (``embedded``
    below). ``clickhouse``: your own ClickHouse server 24.8+ over the native protocol (host, port,
    user, password below; ``CDP_WAREHOUSE__HOST`` etc.). One code path talks to both."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["embedded", "clickhouse"] = "embedded"
    database: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = "cdp"
    embedded: EmbeddedServerSettings = EmbeddedServerSettings()
    host: str = "127.0.0.1"
    port: Annotated[int, Field(gt=0, le=65535)] = 9000
    user: str = "default"
    password: SecretStr = SecretStr("")
    secure: bool = False  # TLS (the server's tcp_port_secure, usually 9440)
    compression: Literal["lz4", "zstd", "none"] = "lz4"
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 10
    send_receive_timeout_seconds: Annotated[float, Field(gt=0)] = 300
    retries: Annotated[int, Field(ge=0)] = 3  # per statement, on network failures
    insert_connections: PositiveInt = 4  # a runner's batch writes its tables, and a customer's 360° view reads its parts, over this many connections at once
    # Your server's user that SQL a person wrote (`cdp sql`) runs as: give it only SELECT on DATABASE.* and a
    # readonly profile with time and memory limits (docs/bi.md). Empty: the user above, with readonly = 1 per query.
    # The embedded server has its own (cdp_query).
    query_user: str = ""
    query_password: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _query_user_needs_your_server(self) -> "WarehouseSettings":
        if self.query_user and self.backend != "clickhouse":
            raise ValueError("query_user needs backend = 'clickhouse' (the embedded server has its own, cdp_query)")
        return self


class KafkaSettings(BaseModel):
    """The scale-out deployment's stream (``cdp relay``, ``cdp worker``; docs/operations.md).

    Projection state of the scale-out runners lives in the event store's PostgreSQL database.
    """

    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = "127.0.0.1:9092"  # comma-separated host:port
    topic: str = "cdp.touchpoints"
    partitions: Annotated[int, Field(gt=0)] = 8  # fixed once the topic exists: customers are placed by key hash
    replication_factor: Annotated[int, Field(gt=0)] = 1  # of the topic, when the relay creates it (3 on a production cluster)
    group: str = "cdp-workers"  # the workers' consumer group (and faust app id)
    worker_batch: PositiveInt = 20000  # relayed events (and merges, ticks, absorbs) per worker batch at most, in whole messages: one message holding more is a batch alone (cdp.scaleout.batching)
    worker_batch_seconds: Annotated[float, Field(gt=0)] = 1.0  # longest wait to fill a batch
    session_timeout_seconds: Annotated[float, Field(ge=6, le=300)] = 60.0  # a silent worker's partitions go to the others after this (Kafka's group.min/max.session.timeout.ms bound it)
    web_port: Annotated[int, Field(gt=0, le=65535)] = 6066  # faust's web port; give each worker on one host its own


class RunnerSettings(BaseModel):
    """The embedded runner (`cdp run`, `cdp serve`; docs/operations.md, "Using the cores")."""

    model_config = ConfigDict(extra="forbid")

    # projection processes: above 1, customers are split over this many child processes by the scale-out
    # workers' partition function over `kafka.partitions` (keep it a multiple of this); 1 projects in the runner's own process
    processes: PositiveInt = 1


class SourceLimits(BaseModel):
    """Size limits of one source's requests. The defaults accept Segment's libraries (500 KB batches,
    32 KB events) and RudderStack's (gzip batches of up to 4 MB)."""

    model_config = ConfigDict(extra="forbid")

    max_batch_bytes: PositiveInt = 5 * 1024 * 1024  # a request body, after gzip decoding
    max_event_bytes: PositiveInt = 1024 * 1024  # one event; a bigger one is dead-lettered


class CollectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8088
    limits: SourceLimits = SourceLimits()
    source_limits: dict[str, SourceLimits] = {}  # per source name, overriding ``limits``
    max_pending_events: PositiveInt = 200_000  # beyond this many events awaiting their write: 429
    max_write_events: PositiveInt = 5_000  # events per shared (group) write
    max_body_bytes_held: PositiveInt = 256 * 1024 * 1024  # request bodies one collector process holds at once (read, sorted, awaiting their write); past it: 429 (cdp.api.body.BodyBudget)
    max_body_bytes_held_per_client: PositiveInt = 32 * 1024 * 1024  # of which one client address may hold (its first request always goes on)
    retry_after_seconds: PositiveInt = 1
    refusal_records_per_minute: PositiveInt = 60  # audit records of 401/403 answers per client address a minute, per process; past it they are counted (cdp.refusal_records)
    workers: PositiveInt = 1  # collector processes sharing the port; with more than one, the runner gets its own process
    # Slow and idle clients (cdp.api.connections), per collector process: a request's headers must
    # arrive within header_timeout_seconds of its first byte, its body within body_timeout_seconds
    # of its headers; connections past max_connections_per_client from one address get 429,
    # past max_connections in all 503.
    header_timeout_seconds: PositiveFloat = 10
    body_timeout_seconds: PositiveFloat = 30
    max_connections_per_client: PositiveInt = 256
    max_connections: PositiveInt = 4096

    def limits_for(self, source_name: str) -> SourceLimits:
        return self.source_limits.get(source_name, self.limits)

    @property
    def max_body_bytes(self) -> int:
        """The most any source may send; a body is read up to this before its source is known."""
        return max([self.limits.max_batch_bytes, *(s.max_batch_bytes for s in self.source_limits.values())])


GRANTED_WITHOUT_DECISION = frozenset({"analytics"})  # first-party, aggregate analysis (legitimate interests); the rest is opt-in

ConsentDefaults = create_model(
    "ConsentDefaults",
    __config__=ConfigDict(extra="forbid", frozen=True),
    __doc__="Per purpose: whether a customer with no consent decision for it counts as consenting. GDPR and PIPL make marketing opt-in.",
    **{p: (bool, Field(default=p in GRANTED_WITHOUT_DECISION, description=f"Consent to {p} assumed without a decision.")) for p in PURPOSES},
)  # type: ignore[call-overload]


class ConsentSettings(BaseModel):
    """How consent is read: exports and ``consent`` segment conditions apply ``defaults`` where a
    customer never decided (read at query time, so a change needs no rebuild)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: ConsentDefaults = ConsentDefaults()  # type: ignore[valid-type]

    def granted_without_decision(self, purpose: str) -> bool:
        return getattr(self.defaults, purpose)


class PrivacySettings(BaseModel):
    """Crypto-shredding of personal data. ``master_key`` wraps every data key in ``DATA_DIR/keys.sqlite``;
    production sets it from a secret store (``CDP_PRIVACY__MASTER_KEY``, at least 32 characters, e.g.
    ``python -c "import secrets; print(secrets.token_urlsafe(32))"``). Unset, the embedded default
    generates one on first use in ``DATA_DIR/master.key`` (mode 0600) next to the data it protects."""

    model_config = ConfigDict(extra="forbid")

    master_key: Annotated[SecretStr, Field(min_length=32)] | None = None


class ActivationSettings(BaseModel):
    """Delivery of outbound actions (``cdp activation dispatch``, docs/activation.md): retries with
    exponential backoff and jitter, a per-destination rate limit and circuit breaker, dead letters
    after ``max_attempts``. A destination may override ``rate_per_second``."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: PositiveInt = 8  # then the action is a dead letter (`cdp deliveries replay`)
    backoff_seconds: PositiveFloat = 2.0  # the first retry's delay; doubled per attempt, times a random 0.5-1.5
    max_backoff_seconds: PositiveFloat = 3600.0
    rate_per_second: PositiveFloat = 20.0  # per destination, unless the destination sets its own
    breaker_failures: PositiveInt = 5  # consecutive failures that open a destination's circuit
    breaker_cooldown_seconds: PositiveFloat = 60.0  # how long an open circuit sends nothing to the destination
    lease_seconds: PositiveFloat = 120.0  # a claimed action left unfinished (a dispatcher killed) is claimed again after this
    batch: PositiveInt = 100  # actions claimed at a time
    concurrency: PositiveInt = 8  # sends of a batch in flight at once (each destination still within its rate)
    poll_seconds: PositiveFloat = 1.0  # the dispatcher's wait when nothing is due
    timeout_seconds: PositiveFloat = 10.0  # per send (connect and read)
    dispatch_in_server: bool = True  # `cdp serve` and `cdp start` run the dispatcher beside the runner (else: `cdp activation dispatch`)


class ConsoleSettings(BaseModel):
    """The marketer console ``cdp serve`` serves at ``/`` (docs/console.md)."""

    model_config = ConfigDict(extra="forbid")

    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12  # a sign-in lasts this long; the key's revocation ends it at once
    secure_cookies: bool = False  # true behind HTTPS: the session cookie is then never sent in clear


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDP_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path(".cdp")
    # events per batch of the runner and the relay (and lines per ingest transaction): a batch costs the warehouse
    # server ~7 ms per table whatever its size, and its parts are merged again as they grow. In a 1M rebuild,
    # 20,000 cut the server's CPU per event 3.3x against 5,000 (+150 MiB of peak RSS); 60,000 cut it again
    # 42 -> 19 us (merges rewrote 1.4 rows per row inserted, not 2.4), the rebuild 10 %, for 411 -> 870 MiB
    # of peak RSS; the 10M rebuild: BENCHMARKS.md, issue 23
    batch_size: PositiveInt = 60_000
    runner: RunnerSettings = RunnerSettings()
    # `cdp ingest` of JSON Lines files (an old CRM history) accepts event times from here; live sources
    # (collector, webhooks, connector imports) keep the envelope's 2000-01-01 (schemas/envelope.py)
    earliest_imported_event_time: AwareDatetime = EARLIEST
    event_store: EventStoreSettings = EventStoreSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    identity: IdentityRules = IdentityRules()
    lifecycle: LifecycleRules = LifecycleRules()
    collector: CollectorSettings = CollectorSettings()
    privacy: PrivacySettings = PrivacySettings()
    kafka: KafkaSettings = KafkaSettings()
    # the other projections' rules (each documented field by field next to its projection)
    profile: ProfileRules = ProfileRules()
    tags: TagRules = TagRules()
    value: ValueRules = ValueRules()
    satisfaction: SatisfactionRules = SatisfactionRules()
    service: ServiceRules = ServiceRules()
    churn: ChurnRules = ChurnRules()
    loyalty: LoyaltyRules = LoyaltyRules()
    consent: ConsentSettings = ConsentSettings()
    ingestion: IngestionRules = IngestionRules()  # Segment track names → typed events (ingestion.track_mapping)
    triggers: TriggerRules = TriggerRules()  # outbound trigger rules, none by default (docs/triggers.md); enabled one by one with `cdp triggers enable`
    activation: ActivationSettings = ActivationSettings()
    console: ConsoleSettings = ConsoleSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def event_store_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "projections.sqlite"

    @property
    def quarantine_path(self) -> Path:
        return self.data_dir / "quarantine.sqlite"

    @property
    def sources_path(self) -> Path:
        return self.data_dir / "sources.sqlite"

    @property
    def dead_letters_path(self) -> Path:
        return self.data_dir / "deadletters.sqlite"

    @property
    def segments_path(self) -> Path:
        return self.data_dir / "segments.sqlite"

    @property
    def triggers_path(self) -> Path:
        return self.data_dir / "triggers.sqlite"

    @property
    def tag_definitions_path(self) -> Path:
        return self.data_dir / "tag_definitions.sqlite"

    @property
    def read_keys_path(self) -> Path:
        return self.data_dir / "read_keys.sqlite"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.sqlite"

    @property
    def key_store_path(self) -> Path:
        return self.data_dir / "keys.sqlite"

    @property
    def master_key_path(self) -> Path:
        return self.data_dir / "master.key"

    @property
    def rates_path(self) -> Path:
        return self.data_dir / "rates.sqlite"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def destinations_path(self) -> Path:
        return self.data_dir / "destinations.sqlite"

    @property
    def outbound_path(self) -> Path:
        """Where ``file`` destinations write (cdp/activation/destinations/file.py)."""
        return self.data_dir / "outbound"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Reads settings; ``overrides`` (command-line options) win over everything else."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    config_file = config_file or _env_path("CDP_CONFIG") or _default_config_file(overrides)
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    settings_class = Settings
    if config_file is not None:
        config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})
        settings_class = type("FileSettings", (Settings,), {"model_config": config, "__doc__": Settings.__doc__})
    try:
        return settings_class(**overrides)
    except ValidationError as error:
        where = f" in {config_file}" if config_file else ""
        raise ConfigError(f"invalid configuration{where}: {describe(error)}") from None
    except ValueError as error:  # a TOML syntax error
        raise ConfigError(f"cannot read {config_file}: {error}") from None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _default_config_file(overrides: dict[str, Any]) -> Path | None:
    data_dir = Path(overrides.get("data_dir") or os.environ.get("CDP_DATA_DIR") or ".cdp")
    candidate = data_dir / "cdp.toml"
    return candidate if candidate.is_file() else None
