"""Turns one raw input object into a validated event, or a reason naming the field."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from schemas import Envelope, describe, parse_envelope

MAX_EVENT_BYTES = 1_048_576
MAX_FUTURE = timedelta(hours=24)


class Invalid(Exception):
    """Raised with a one-line reason that names the offending field."""


def decode_json(raw: bytes) -> Any:
    if len(raw) > MAX_EVENT_BYTES:
        raise Invalid(f"(event): {len(raw):,} bytes; the limit is {MAX_EVENT_BYTES:,}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Invalid(f"malformed JSON: {error}") from None


def validate(data: Any, received_at: datetime) -> Envelope:
    """Validates an envelope and stamps when it was received."""
    if not isinstance(data, dict):
        raise Invalid(f"(event): expected a JSON object, got {json_kind(data)}")
    data = {**data, "received_at": received_at}
    try:
        envelope = parse_envelope(data)
    except ValidationError as error:
        raise Invalid(describe(error)) from None
    if envelope.occurred_at - received_at > MAX_FUTURE:
        hours = int(MAX_FUTURE.total_seconds() // 3600)
        raise Invalid(f"occurred_at: {envelope.occurred_at.isoformat()} is more than {hours}h after it was received")
    return envelope


def json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def now() -> datetime:
    return datetime.now(UTC)
