"""Sorts a request's or a file's input into validated events and dead letters, one place per item.

Every item ends in exactly one of the two lists, so a caller that stores both has lost nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ingestion.deadletter import DeadLetter
from ingestion.validation import Invalid, validate
from schemas import Envelope


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
    max_item_bytes: int | None,
    start: int = 0,
    check: Callable[[Envelope], object] | None = None,
) -> Sorted:
    """Maps each item to envelopes and validates them (and ``check``s them, which raises ``Invalid``
    too); an item that fails, or is bigger than ``max_item_bytes`` (None: the caller knows none is),
    is dead-lettered whole with the reason (``origin#index``, counting from ``start``)."""
    result = Sorted()
    for index, item in enumerate(items, start):
        try:
            if max_item_bytes is not None and len(_raw(item)) > max_item_bytes:
                raise Invalid(f"(event): {len(_raw(item)):,} bytes; this source's limit is {max_item_bytes:,}")
            events = [validate(envelope, received_at) for envelope in to_envelopes(item)]
            if check is not None:
                for event in events:
                    check(event)
        except Invalid as error:
            result.rejected.append((index, DeadLetter(source=source, origin=f"{origin}#{index}", reason=str(error), payload=_raw(item))))
        else:
            result.events.extend(events)  # all of an item's events, or none
    return result


def _raw(item: Any) -> bytes:
    return item if isinstance(item, bytes) else orjson.dumps(item)
