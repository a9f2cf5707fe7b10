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
from ingestion.validation import Invalid, decode_json


def replay_envelopes(origin: str, source: str, payload: bytes, received_at: datetime, connectors: Mapping[str, type[Connector]]) -> list[dict[str, Any]]:
    """The envelope dicts the dead letter gives now; raises ``Invalid`` if it still does not fit."""
    route, _, rest = origin.partition(":")
    if route == "segment":
        return _segment(rest, source, payload, received_at)
    if route in ("webhook", "import"):
        name = rest.partition("#")[0].partition(":")[0]
        if name not in connectors:
            raise Invalid(f"connector {name!r} is not installed")
        return list(envelopes(connectors[name](), payload, source))
    data = decode_json(payload)
    return [data]  # an envelope; the caller validates it


def _segment(rest: str, source: str, payload: bytes, received_at: datetime) -> list[dict[str, Any]]:
    path, _, index = rest.partition("#")
    call = path.rstrip("/").rsplit("/", 1)[-1]
    call_type = call if call in CALL_TYPES else None
    data = decode_json(payload)
    if index or call_type is not None:
        return [to_envelope(data, SegmentRequest(source, received_at), call_type)]
    messages, request = batch_of(payload, data, source, received_at)
    return [to_envelope(message, request) for message in messages]
