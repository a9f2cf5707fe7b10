"""Replays a dead letter through the path that refused it, after a mapping or schema fix.

A dead letter's origin says which path that was: ``segment:/v1/<call>[#index]`` (a Segment
message, or a whole request when there is no index), ``webhook:<connector>#0`` and
``import:<connector>:<file>#<index>`` (a connector's record), or ``<file>:<line>`` (an envelope
from a JSON Lines import).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingestion.sdk import Connector, envelopes
from ingestion.segment import CALL_TYPES, batch_of, to_envelope
from ingestion.segment import Request as SegmentRequest
from ingestion.track_mapping import TrackMapping
from ingestion.validation import Invalid, Limits, decode_json, max_item_bytes


def replay_envelopes(
    origin: str, source: str, payload: bytes, received_at: datetime, connectors: Mapping[str, type[Connector]], limits: Limits, track_mapping: TrackMapping | None = None
) -> list[dict[str, Any]]:
    """The envelope dicts the dead letter gives now, held to its source's ``limits`` as the path
    that refused it holds them, and typed by the current ``track_mapping`` as that path types
    them (JSON Lines envelopes are taken as typed); raises ``Invalid`` if it still does not fit.
    The caller validates each (to ``limits.max_event_bytes``)."""
    route, _, rest = origin.partition(":")
    max_bytes = max_item_bytes(origin, limits)
    typed = (lambda found: found) if track_mapping is None else (lambda found: [track_mapping.mapped(e) for e in found])
    if route == "segment":
        return typed(_segment(rest, source, payload, received_at, max_bytes))
    if route in ("webhook", "import"):
        name = rest.partition("#")[0].partition(":")[0]
        if name not in connectors:
            raise Invalid(f"connector {name!r} is not installed")
        return typed(list(envelopes(connectors[name](), payload, source, max_bytes)))
    data = decode_json(payload, max_bytes)
    return [data]  # an envelope


def _segment(rest: str, source: str, payload: bytes, received_at: datetime, max_batch_bytes: int) -> list[dict[str, Any]]:
    path, _, index = rest.partition("#")
    call = path.rstrip("/").rsplit("/", 1)[-1]
    call_type = call if call in CALL_TYPES else None
    data = decode_json(payload, max_batch_bytes)
    if index or call_type is not None:
        return [to_envelope(data, SegmentRequest(source, received_at), call_type)]
    messages, request = batch_of(payload, data, source, received_at, max_batch_bytes=max_batch_bytes)
    return [to_envelope(message, request) for message in messages]
