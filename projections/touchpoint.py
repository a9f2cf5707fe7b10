"""How projections see one stored event: its log position and its envelope as decoded JSON.

The envelope's shape is ``schemas.Envelope`` dumped with ``mode="json"``; events are validated
before they are stored, so projections read the plain dict without validating again.
"""

from datetime import datetime
from typing import Any, NamedTuple


class Touchpoint(NamedTuple):
    position: int
    event: dict[str, Any]

    @property
    def occurred_ms(self) -> int:
        return to_ms(self.event["occurred_at"])


def to_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)
