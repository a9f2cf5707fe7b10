"""Sorts a request's or a file's input into validated events and dead letters, one place per item.

Every item ends in exactly one of the two lists, so a caller that stores both has lost nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ingestion.deadletter import DeadLetter
from ingestion.jsontext import cut
from ingestion.track_mapping import TrackMapping
from ingestion.validation import MAX_DEPTH, Invalid, validate
from schemas import Envelope

KEPT_LEVELS = 2 * MAX_DEPTH  # still too deep, so a replay refuses it again


@dataclass
class Sorted:
    events: list[Envelope] = field(default_factory=list)  # validated, what the sealed event store appends
    rejected: list[tuple[int, DeadLetter]] = field(default_factory=list)  # (item index, letter)

    @property
    def letters(self) -> list[DeadLetter]:
        return [letter for _, letter in self.rejected]

    def extend(self, other: "Sorted") -> None:
        self.events.extend(other.events)
        self.rejected.extend(other.rejected)


def sort_items(
    items: Iterable[Any],
    to_envelopes: Callable[[Any], Iterable[dict[str, Any]]],
    received_at: datetime,
    source: str,
    origin: str,
    max_event_bytes: int,
    start: int = 0,
    check: Callable[[Envelope], object] | None = None,
    track_mapping: TrackMapping | None = None,
) -> Sorted:
    """Maps each item to envelopes (an ``event_tracked`` through ``track_mapping``, see
    ``ingestion.track_mapping``) and validates them (an event bigger than ``max_event_bytes``
    is invalid) and ``check``s them (which raises ``Invalid`` too); an item that fails, or reuses
    the message id of a different event, is dead-lettered whole with the reason (``origin#index``,
    counting from ``start``)."""
    result = Sorted()
    seen: dict[tuple[str, str], Envelope] = {}
    for index, item in enumerate(items, start):
        try:
            envelopes = to_envelopes(item) if track_mapping is None else map(track_mapping.mapped, to_envelopes(item))
            events = [validate(envelope, received_at, max_event_bytes) for envelope in envelopes]
            if check is not None:
                for event in events:
                    check(event)
            _refuse_reused_ids(events, seen)
        except Invalid as error:
            payload, reason = _kept_form(item, str(error))
            result.rejected.append((index, DeadLetter(source=source, origin=f"{origin}#{index}", reason=reason, payload=payload)))
        else:
            result.events.extend(events)  # all of an item's events, or none
    return result


def _refuse_reused_ids(events: list[Envelope], seen: dict[tuple[str, str], Envelope]) -> None:
    """Two copies of one event are one event (idempotency); a different event under an id
    already used in this request would be dropped by the store's dedupe, so it is refused. (An
    item refused for a later event of its own keeps the ids it claimed: a different event under
    one of them is refused too, and kept.)"""
    for event in events:
        earlier = seen.setdefault((event.source_name, event.message_id), event)
        if earlier is not event and earlier != event:
            raise Invalid(f"message_id: {event.message_id[:64]!r} is the id of an earlier, different event in this request")


def _kept_form(item: Any, reason: str) -> tuple[bytes, str]:
    """What the dead-letter store keeps of an item: as sent, or as decoded; one nested deeper
    than orjson serialises is kept cut at ``KEPT_LEVELS``, and the reason says so."""
    if isinstance(item, bytes):
        return item, reason
    try:
        return orjson.dumps(item, default=str), reason
    except TypeError:
        return orjson.dumps(cut(item, KEPT_LEVELS), default=str), f"{reason} (kept cut at {KEPT_LEVELS} levels)"
