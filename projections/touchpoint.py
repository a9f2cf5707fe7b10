"""How projections see one stored event: its log position and its envelope as decoded JSON.

The envelope's shape is ``schemas.Envelope`` dumped with ``mode="json"``; events are validated
before they are stored, so projections read the plain dict without validating again.
"""

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple


class Touchpoint(NamedTuple):
    position: int
    event: dict[str, Any]

    @property
    def occurred_ms(self) -> int:
        return to_ms(self.event["occurred_at"])


@lru_cache(maxsize=16_384)
def to_ms(iso: str) -> int:
    """An ISO time in ms. Remembered for the last times asked: the projections ask for an event's
    time in several places (the batch's watermark, the profile, consent, the triggers), so a batch's
    events are parsed about once each."""
    return int(datetime.fromisoformat(iso).timestamp() * 1000)
