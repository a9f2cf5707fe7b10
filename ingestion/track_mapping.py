"""Segment-style ``track`` calls → typed events, by a declarative mapping in configuration.

A website widget or an app sends an NPS answer or a support ticket as a ``track`` call
(``NPS Answered`` with ``score``); without a mapping it stays an ``event_tracked`` and the
customer's NPS, complaints and SLA ignore it. ``TrackMapping.mapped`` turns such an envelope into
the typed event its name is mapped to, before validation, so a mapped event is validated like
any typed event and an invalid one is dead-lettered naming the field. Pure: no I/O, no clock.

Names match whatever their case and spacing (``nps answered``, ``NPS  Answered``). A rule's
steps, in order: ``rename`` moves sent properties to the typed event's fields; ``when`` sets
fields from a sent property's value (``type = "complaint"`` → ``is_complaint = true``); ``constants``
set fields whatever was sent. The source kind is the rule's ``source_kind`` if given, else the
sender's where the typed event accepts it, else the typed event's home kind (an NPS answer from
a website source is a survey touchpoint; a consent decision stays a website one). The name sent
is kept in the event's context as ``tracked_as``. Configured rules are added to the defaults
(``DEFAULT_RULES``); a default is switched off by mapping its name to ``event_tracked``.
"""

import re
from functools import cached_property
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from schemas import PAYLOAD_BY_EVENT_TYPE, SOURCE_KINDS, SourceKind
from schemas.payloads import privacy

TRACKED = "event_tracked"
MAPPABLE = sorted(set(PAYLOAD_BY_EVENT_TYPE) - {p.event_type for p in privacy.PAYLOADS})  # the platform writes an erasure itself
FieldName = Annotated[str, Field(min_length=1, max_length=64)]


class TrackRule(BaseModel):
    """How one ``track`` event name becomes a typed event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: str = Field(description="The typed event it becomes (nps_answered, ticket_opened, ...; event_tracked keeps it untyped).")
    source_kind: SourceKind | None = Field(default=None, description="The source kind recorded; unset: the sender's where the event type accepts it, else the type's home kind.")
    rename: dict[FieldName, FieldName] = Field(default={}, description="Sent property → the typed event's field (e.g. nps → score).")
    when: dict[FieldName, dict[str, dict[FieldName, Any]]] = Field(
        default={}, description="Sent property → its value (case folded) → fields set (e.g. type → complaint → is_complaint = true)."
    )
    constants: dict[FieldName, Any] = Field(default={}, description="Fields set whatever was sent (e.g. name = referral_made).")

    @field_validator("event_type")
    @classmethod
    def _known_type(cls, event_type: str) -> str:
        if event_type not in MAPPABLE:
            raise ValueError(f"{event_type!r} is not an event type a track call may become (one of {', '.join(MAPPABLE)})")
        return event_type

    @model_validator(mode="after")
    def _accepted_kind(self) -> "TrackRule":
        accepted = PAYLOAD_BY_EVENT_TYPE[self.event_type].accepted_source_kinds()
        if self.source_kind is not None and self.source_kind not in accepted:
            raise ValueError(f"source_kind: {self.event_type} comes from a {' or '.join(accepted)} source, not {self.source_kind}")
        return self

    def properties(self, sent: dict[str, Any]) -> dict[str, Any]:
        """The typed event's properties from the ``track`` call's."""
        mapped = {self.rename.get(name, name): value for name, value in sent.items()}
        for name, by_value in self.when.items():
            if name in sent:
                mapped.update(by_value.get(_value_key(sent[name]), {}))
        return {**mapped, **self.constants}


def _value_key(value: Any) -> str:
    """A sent value as ``when`` names it: text case- and space-folded, anything else as JSON (true, 3)."""
    return _folded(value) if isinstance(value, str) else orjson.dumps(value).decode()


def _folded(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().lower()


def _rule(event_type: str, **steps: Any) -> dict[str, Any]:
    return {"event_type": event_type, **steps}


_FEEDBACK = _rule("feedback_given", rename={"feedback": "text", "message": "text"})
_TICKET_OPENED = _rule("ticket_opened", rename={"type": "category"}, when={"type": {"complaint": {"is_complaint": True}}})
_REFERRAL = _rule(TRACKED, constants={"name": "referral_made"})  # projections.profile counts referral_made as a referral

# The documented defaults (docs/domain.md §1, "Segment track calls"): common names of survey,
# ticket, referral and consent events as product teams send them.
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "NPS Answered": _rule("nps_answered"),
    "NPS Submitted": _rule("nps_answered"),
    "CSAT Answered": _rule("csat_answered"),
    "CSAT Submitted": _rule("csat_answered"),
    "CSI Answered": _rule("csi_answered"),
    "Feedback Given": _FEEDBACK,
    "Feedback Submitted": _FEEDBACK,
    "Ticket Opened": _TICKET_OPENED,
    "Ticket Created": _TICKET_OPENED,
    "Ticket Responded": _rule("ticket_first_responded"),
    "Ticket Escalated": _rule("ticket_escalated"),
    "Ticket Resolved": _rule("ticket_resolved"),
    "Ticket Reopened": _rule("ticket_reopened"),
    "Referral Made": _REFERRAL,
    "Friend Referred": _REFERRAL,
    "Consent Given": _rule("consent_given"),
    "Consent Withdrawn": _rule("consent_withdrawn"),
}


class TrackMapping(RootModel[dict[Annotated[str, Field(min_length=1, max_length=256)], TrackRule]]):
    """``[ingestion.track_mapping."NPS Answered"]`` and so on: ``track`` event name → rule. Given
    rules are added to ``DEFAULT_RULES`` (a given name replaces the default of that name)."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _with_defaults(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        named = {_folded(name) for name in given if isinstance(name, str)}
        return {**{name: rule for name, rule in DEFAULT_RULES.items() if _folded(name) not in named}, **given}

    @model_validator(mode="after")
    def _one_rule_per_name(self) -> "TrackMapping":
        folded = [_folded(name) for name in self.root]
        twice = next((name for name in self.root if folded.count(_folded(name)) > 1), None)
        if twice is not None:
            raise ValueError(f"{twice!r}: named twice (names match whatever their case and spacing)")
        return self

    @cached_property
    def by_name(self) -> dict[str, TrackRule]:
        """Folded name → rule."""
        return {_folded(name): rule for name, rule in self.root.items()}

    def mapped(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The envelope as its typed event, if it is an ``event_tracked`` whose name has a rule;
        else as it is. Malformed input is left for validation to report."""
        properties = envelope.get("properties")
        if envelope.get("event_type") != TRACKED or not isinstance(properties, dict) or not isinstance(properties.get("name"), str):
            return envelope
        rule = self.by_name.get(_folded(properties["name"]))
        if rule is None or (rule.event_type == TRACKED and not rule.constants and not rule.rename and not rule.when):
            return envelope
        sent = {k: v for k, v in properties.items() if k != "name"} if rule.event_type != TRACKED else properties
        context = envelope.get("context")
        sender = envelope.get("source_kind")
        payload = PAYLOAD_BY_EVENT_TYPE[rule.event_type]
        kind = rule.source_kind or (payload.source_kind_from(sender) if sender in SOURCE_KINDS else sender)  # a bad kind is left for validation to report
        return {
            **envelope,
            "event_type": rule.event_type,
            "source_kind": kind,
            "properties": rule.properties(sent),
            "context": {**context, "tracked_as": properties["name"]} if isinstance(context, dict) else context,
        }


def default_mapping() -> TrackMapping:
    return TrackMapping.model_validate({})


class IngestionRules(BaseModel):
    """``[ingestion]``: how events entering through the doors are typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    track_mapping: TrackMapping = Field(default_factory=default_mapping, description="Segment track event name → typed event (ingestion.track_mapping).")
