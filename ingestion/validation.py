"""Turns one raw input object into a validated event, or a reason naming the field."""

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from ingestion.jsontext import deeper_than, nests_at_most
from schemas import Envelope, describe, parse_envelope
from schemas.envelope import EARLIEST

MAX_EVENT_BYTES = 1_048_576
MAX_DEPTH = 32  # levels of objects and arrays in one field of an event (``context``, ``properties``, ...)
MAX_FUTURE = timedelta(hours=24)


class Invalid(Exception):
    """Raised with a one-line reason that names the offending field."""


class Limits(Protocol):
    """A source's size limits (``cdp.config.SourceLimits``)."""

    max_batch_bytes: int  # a request or webhook body
    max_event_bytes: int  # one event as mapped


def max_item_bytes(origin: str, limits: Limits) -> int:
    """The most one item of ``origin`` may hold before it is mapped: a request or webhook body
    (``segment:…``, ``webhook:…``) may hold many events, so the batch limit; a file line
    (``import:…``, ``<file>:<line>``) the event limit. ``validate`` holds each event to the event limit."""
    return limits.max_batch_bytes if origin.partition(":")[0] in ("segment", "webhook") else limits.max_event_bytes


def decode_json(raw: bytes, max_bytes: int = MAX_EVENT_BYTES) -> Any:
    if len(raw) > max_bytes:
        raise Invalid(f"(event): {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Invalid(f"malformed JSON: {error}") from None


def validate(data: Any, received_at: datetime, max_bytes: int = MAX_EVENT_BYTES, earliest: datetime = EARLIEST) -> Envelope:
    """Validates an envelope and stamps when it was received. Every door passes here, so the
    depth and size limits hold for every event stored, whatever it was mapped from. ``earliest``:
    the first event time accepted (``Settings.earliest_imported_event_time`` for file imports)."""
    if not isinstance(data, dict):
        raise Invalid(f"(event): expected a JSON object, got {json_kind(data)}")
    _check_limits(data, max_bytes)
    data = {**data, "received_at": received_at}
    try:
        envelope = parse_envelope(data, earliest)
    except ValidationError as error:
        raise Invalid(describe(error)) from None
    if envelope.occurred_at - received_at > MAX_FUTURE:
        hours = int(MAX_FUTURE.total_seconds() // 3600)
        raise Invalid(f"occurred_at: {envelope.occurred_at.isoformat()} is more than {hours}h after it was received")
    return envelope


def _check_limits(data: dict, max_bytes: int) -> None:
    """``MAX_DEPTH`` and ``max_bytes`` on the event as mapped: one ``orjson.dumps`` (~1 µs), and
    a walk to name the field only when the text may nest too deep."""
    try:
        text = orjson.dumps(data, default=str)
    except TypeError as error:  # deeper than orjson serialises (254 levels), or an integer beyond 64 bits
        _refuse_too_deep(data)
        raise Invalid(f"(event): not serialisable as JSON ({error})") from None
    if text.count(b"{") + text.count(b"[") > MAX_DEPTH + 1 and not nests_at_most(text, MAX_DEPTH + 1):  # most events have fewer brackets
        _refuse_too_deep(data)
    if len(text) > max_bytes:
        raise Invalid(f"(event): {len(text):,} bytes as an event; the limit is {max_bytes:,}")


def _refuse_too_deep(data: dict) -> None:
    """Raises ``Invalid`` naming the first field that nests deeper than ``MAX_DEPTH``, if any."""
    for name, value in data.items():
        if isinstance(value, dict | list | tuple) and deeper_than(value, MAX_DEPTH):
            raise Invalid(f"{str(name)[:64]}: nested deeper than {MAX_DEPTH} levels")


def json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def now() -> datetime:
    return datetime.now(UTC)
