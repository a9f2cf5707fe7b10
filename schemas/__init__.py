"""Event schemas: the envelope, identifiers and typed payloads of all five source kinds.

Imports nothing else of this project.
"""

from schemas.envelope import (
    ENVELOPE_ADAPTER,
    ENVELOPE_BY_EVENT_TYPE,
    SCHEMA_VERSION,
    Envelope,
    parse_envelope,
    parse_envelope_json,
)
from schemas.errors import describe, field_path
from schemas.identifiers import ID_TYPES, PERSON_ID_TYPES, Identifiers, PersonIdType, SocialHandle, person_keys
from schemas.payloads import PAYLOAD_BY_EVENT_TYPE, SOURCE_KINDS, Payload, SourceKind
from schemas.personal import Personal, personal_fields

__all__ = [
    "ENVELOPE_ADAPTER",
    "ENVELOPE_BY_EVENT_TYPE",
    "ID_TYPES",
    "PAYLOAD_BY_EVENT_TYPE",
    "PERSON_ID_TYPES",
    "SCHEMA_VERSION",
    "SOURCE_KINDS",
    "Envelope",
    "Identifiers",
    "Payload",
    "PersonIdType",
    "Personal",
    "SocialHandle",
    "SourceKind",
    "describe",
    "field_path",
    "parse_envelope",
    "parse_envelope_json",
    "person_keys",
    "personal_fields",
]
