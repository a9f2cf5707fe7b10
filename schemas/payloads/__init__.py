"""Typed payloads for every event type, by source kind (docs/domain.md §1), consent (§13) and outbound messages (docs/activation.md)."""

from schemas.payloads import consent, messages, privacy, sales, service, social, survey, website
from schemas.payloads.base import SOURCE_KINDS, Payload, SourceKind

PAYLOAD_BY_EVENT_TYPE: dict[str, type[Payload]] = {
    model.event_type: model
    for module in (website, social, sales, service, survey, consent, privacy, messages)
    for model in module.PAYLOADS
}

__all__ = ["PAYLOAD_BY_EVENT_TYPE", "SOURCE_KINDS", "Payload", "SourceKind"]
