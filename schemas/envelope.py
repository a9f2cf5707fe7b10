"""The event envelope: one immutable touchpoint, whatever its source.

``Envelope`` holds what every event has. Each event type has its own subclass whose
``properties`` is that type's typed payload; ``parse_envelope`` picks the subclass by
``event_type`` (a discriminated union), so an error names the exact field, e.g.
``properties.amount``.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationInfo, create_model

from schemas.identifiers import Identifiers
from schemas.payloads import PAYLOAD_BY_EVENT_TYPE, Payload, SourceKind
from schemas.personal import Personal

SCHEMA_VERSION = 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # live sources; an import may set an earlier one (``parse_envelope``)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

MessageId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
TraitValue = str | int | float | bool | None | list[str | int | float | bool]


def _assume_utc(value: Any) -> Any:
    """A timestamp without a zone is taken as UTC, as Segment does."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, str) and len(value) == 10:
        return value + "T00:00:00Z"
    if isinstance(value, str) and len(value) > 10 and not _has_zone(value[10:]):
        return value + "Z"
    return value


def _has_zone(time_part: str) -> bool:
    return time_part.endswith(("Z", "z")) or "+" in time_part or "-" in time_part


def _in_range(value: datetime, info: ValidationInfo) -> datetime:
    earliest = (info.context or {}).get("earliest", EARLIEST)
    if not earliest <= value < LATEST:
        raise ValueError(f"must be between {earliest.date()} and {LATEST.date()}")
    return value.astimezone(UTC)


Timestamp = Annotated[AwareDatetime, BeforeValidator(_assume_utc), AfterValidator(_in_range)]


class Envelope(BaseModel):
    """What every touchpoint carries, whatever its type."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    schema_version: Literal[1] = SCHEMA_VERSION
    message_id: MessageId = Field(description="Unique per source; the same id twice is stored once.")
    event_type: str
    source_kind: SourceKind
    source_name: SourceName = Field(description="The configured source (connector or write key) that sent it.")
    occurred_at: Timestamp = Field(description="When it happened (event time), UTC.")
    received_at: Timestamp | None = Field(default=None, description="When the platform accepted it; set on ingest.")
    identifiers: Identifiers
    traits: Personal[Annotated[dict[Annotated[str, Field(max_length=128)], TraitValue], Field(max_length=256)]] = {}
    properties: Payload
    context: Personal[Annotated[dict[Annotated[str, Field(max_length=128)], Any], Field(max_length=256)]] = {}

    def payload_type(self) -> type[Payload]:
        return type(self.properties)


def _envelope_for(payload: type[Payload]) -> type[Envelope]:
    has_required = any(field.is_required() for field in payload.model_fields.values())
    properties = (payload, ...) if has_required else (payload, Field(default_factory=payload))
    return create_model(
        f"{payload.__name__}Event",
        __base__=Envelope,
        __doc__=f"A `{payload.event_type}` touchpoint from a {' or '.join(payload.accepted_source_kinds())} source.",
        event_type=(Literal[payload.event_type], ...),  # type: ignore[valid-type]
        source_kind=(Literal[payload.accepted_source_kinds()], ...),  # type: ignore[valid-type]
        properties=properties,
    )


ENVELOPE_BY_EVENT_TYPE: dict[str, type[Envelope]] = {name: _envelope_for(p) for name, p in PAYLOAD_BY_EVENT_TYPE.items()}
AnyEnvelope = Annotated[Union[tuple(ENVELOPE_BY_EVENT_TYPE.values())], Field(discriminator="event_type")]  # noqa: UP007
ENVELOPE_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(AnyEnvelope)


def parse_envelope(data: dict[str, Any], earliest: datetime = EARLIEST) -> Envelope:
    """Validates one envelope given as a decoded JSON object; raises ``pydantic.ValidationError``.
    ``earliest``: the first time accepted (an import of an old CRM history may go further back)."""
    return ENVELOPE_ADAPTER.validate_python(data, context={"earliest": earliest})


def parse_envelope_json(data: bytes | str) -> Envelope:
    """Validates one envelope given as JSON text; raises ``pydantic.ValidationError``."""
    return ENVELOPE_ADAPTER.validate_json(data)
