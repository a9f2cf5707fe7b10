"""The composition root: builds the platform's parts from settings, opening each only when used."""

from collections.abc import Sequence
from functools import cached_property

from cdp.activation.outbox import Outbox
from cdp.activation.outbox_postgres import PostgresOutbox
from cdp.activation.registry import DestinationRegistry
from cdp.activation.secrets import SecretBox
from cdp.audit import AuditLog
from cdp.config import Settings
from cdp.deadletters import DeadLetterStore
from cdp.eventstore import open_event_store
from cdp.keys import KeyRegistry
from cdp.privacy.keystore import KeyStore, master_key
from cdp.privacy.sealing import SealedEventStore, Sealer, Serialised
from cdp.quarantine import QuarantineStore
from cdp.rates import RateStore, with_rates
from cdp.runner import EmbeddedRunner
from cdp.runner_processes import RunnerProcesses
from cdp.segments.store import SegmentStore
from cdp.segments.values import KnownValues, known_values
from cdp.sources import SourceRegistry
from cdp.statestore import StateStore
from cdp.tag_definitions import TagDefinitionStore
from cdp.triggers import TriggerStore, enabled_triggers
from cdp.triggers_postgres import PostgresTriggerStore
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from ingestion.deadletter import DeadLetter
from projections.actions import Action
from projections.triggers import Trigger
from schemas import Envelope


class Platform:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._segment_values: tuple[int, KnownValues] | None = None  # (tag definition version, values): ``segment_values``

    @cached_property
    def data_keys(self) -> KeyStore:
        """Per-person data keys (crypto-shredding), wrapped by the master key."""
        return KeyStore(self.settings.key_store_path, master_key(self.settings))

    @cached_property
    def events(self) -> SealedEventStore:
        """The event store; personal fields are sealed on append and opened on read."""
        return SealedEventStore(open_event_store(self.settings), Sealer(self.data_keys, self.settings.identity))

    @cached_property
    def dead_letters(self) -> DeadLetterStore:
        return DeadLetterStore(self.settings.dead_letters_path, self.data_keys)

    @cached_property
    def sources(self) -> SourceRegistry:
        return SourceRegistry(self.settings.sources_path)

    @cached_property
    def read_keys(self) -> KeyRegistry:
        """Read keys with scopes, for the HTTP read API."""
        return KeyRegistry(self.settings.read_keys_path)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.audit_path)

    @cached_property
    def segments(self) -> SegmentStore:
        return SegmentStore(self.settings.segments_path, self.segment_values)

    @cached_property
    def tag_definitions(self) -> TagDefinitionStore:
        """Tag definitions applied as data (`cdp tags apply`), on top of the configured ``[tags]``."""
        return TagDefinitionStore(self.settings.tag_definitions_path)

    @cached_property
    def quarantine(self) -> QuarantineStore:
        """Events the embedded runner could not read or project."""
        return QuarantineStore(self.settings.quarantine_path)

    @cached_property
    def outbox(self) -> Outbox | PostgresOutbox:
        """Outbound actions by their derived ids, their delivery log, and the audience bindings: in
        the data directory, or with the event store on PostgreSQL in that database, shared by the
        scale-out workers that add actions and the dispatchers on any host (docs/activation.md)."""
        if self.settings.event_store.backend == "postgres":
            return PostgresOutbox(self.settings.event_store.postgres)
        return Outbox(self.settings.outbox_path)

    @cached_property
    def destinations(self) -> DestinationRegistry:
        """Where messages may go, their secrets sealed with data keys of the key store."""
        return DestinationRegistry(self.settings.destinations_path, SecretBox(self.data_keys))

    @cached_property
    def state(self) -> StateStore:
        return StateStore(self.settings.state_path)

    @cached_property
    def warehouse(self) -> Warehouse:
        warehouse = open_warehouse(self.settings)
        migrate(warehouse, self.settings.data_dir)
        return warehouse

    @cached_property
    def query_warehouse(self) -> Warehouse:
        """Where SQL a person wrote runs (through ``QuerySandbox``), read-only: as the embedded server's
        ``cdp_query`` or your server's ``warehouse.query_user`` when one is set, else the warehouse itself."""
        if self.settings.warehouse.backend == "embedded" or self.settings.warehouse.query_user:
            self.warehouse  # migrated first: the query user may not create the database
            return open_warehouse(self.settings, as_query_user=True)  # a user that can only read
        self.warehouse.make_read_only()
        return self.warehouse

    @cached_property
    def rates(self) -> RateStore:
        """Exchange rates to the reporting currency, loaded by the operator (``cdp rates load``)."""
        return RateStore(self.settings.rates_path)

    @cached_property
    def configured_rules(self) -> Settings:
        """The settings with the loaded exchange rates (read once per process): what the projections
        compute with before the applied tag definitions, which the runner follows batch by batch."""
        return with_rates(self.settings, self.rates.table())

    @property
    def rules(self) -> Settings:
        """What the projections compute with now, for whoever reads or replays them: the settings with
        the exchange rates and the tag rules in force (the configured ``[tags]`` and every applied definition)."""
        return self.tag_definitions.applied_to(self.configured_rules)

    def segment_values(self) -> KnownValues:
        """The values segment conditions may name under ``rules`` (``cdp.segments.values``), worked out
        again only when a tag definition was applied (0.4 ms each time, where the 360° view and the
        dispatcher ask once per saved segment)."""
        version = self.tag_definitions.version()  # the versions are only ever appended to
        if self._segment_values is None or self._segment_values[0] != version:
            self._segment_values = (version, known_values(self.rules))
        return self._segment_values[1]

    @cached_property
    def triggers(self) -> TriggerStore | PostgresTriggerStore:
        """Which trigger rules are enabled, since when: in the data directory, or with the event store
        on PostgreSQL in that database, where every scale-out worker reads it."""
        if self.settings.event_store.backend == "postgres":
            return PostgresTriggerStore(self.settings.event_store.postgres)
        return TriggerStore(self.settings.triggers_path)

    def enabled_triggers(self) -> tuple[Trigger, ...]:
        """The enabled trigger rules with their starts (none, and no store opened, when none is configured)."""
        return enabled_triggers(self.settings.triggers, self.triggers) if self.settings.triggers.rules else ()

    def action_sink(self, actions: Sequence[Action]) -> int:
        """Where the triggers' actions go: the outbox keeps each id once, so a rebuild or a replay adds
        none again (docs/architecture.md §2); the dispatcher delivers them."""
        return self.outbox.add(actions) if actions else 0

    @cached_property
    def runner(self) -> EmbeddedRunner:
        return EmbeddedRunner(
            self.events, self.state, self.warehouse, self.configured_rules, self.settings.batch_size, self.quarantine,
            tag_definitions=self.tag_definitions, triggers=self.enabled_triggers, sink=self.action_sink, processes=self.runner_processes(),
        )

    def runner_processes(self) -> RunnerProcesses | None:
        """New projection processes for a runner (``runner.processes`` above 1; the runner ends them), or None."""
        return RunnerProcesses(self.settings) if self.settings.runner.processes > 1 else None

    # the ingestion sink
    def append(self, events: list[Envelope]) -> tuple[int, int]:
        appended = self.events.append(events)
        return appended.stored, appended.duplicates

    def serialise(self, envelope: Envelope) -> Serialised:
        return self.events.sealer.serialise(envelope)

    def append_serialised(self, events: list[Serialised]) -> tuple[int, int]:
        appended = self.events.append_serialised(events)
        return appended.stored, appended.duplicates

    def dead_letter(self, letters: list[DeadLetter]) -> None:
        self.dead_letters.add(letters)

    def close(self) -> None:
        query = self.__dict__.pop("query_warehouse", None)
        if query is not None and query is not self.__dict__.get("warehouse"):
            query.close()
        for part in ("runner", "outbox", "destinations", "warehouse", "segments", "triggers", "state", "tag_definitions", "quarantine", "sources", "read_keys", "audit", "dead_letters", "rates", "events", "data_keys"):
            if part in self.__dict__:
                self.__dict__.pop(part).close()

    def __enter__(self) -> "Platform":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
