"""The messages on the touchpoints topic (JSON, orjson), keyed by customer id; docs/operations.md.

From the relay, in log order, each with the log ``position`` it stands for and a ``sub`` ordering
messages of one position: ``(position, sub)`` increases along every partition, so a worker skips
what it has applied (redelivery, a relay republishing) by comparing it with its tracked pair.
Each also carries ``since``, the position the relay's batch starts after (the previous batch's
tick on every partition): a partition whose next message starts after a position it never reached
lost messages on the broker, and its worker stops rather than skip them.
- ``event`` {since, position, sub, watermark, customer, event}: a touchpoint and the customer identity
  resolution assigned it to; keyed by that customer.
- ``merge_out`` {since, position, sub, absorbed, survivor}: ``absorbed`` was merged into ``survivor`` by
  the event at ``position``; keyed by the absorbed customer, so it follows all of that customer's
  events on its partition. Sent just before that event (``sub`` 0, 1, ... per merge).
- ``tick`` {since, position, sub, watermark}: the end of a relay batch, sent to every partition, so each
  partition sees the same watermark (latest event time so far: the "as of" of time-driven
  projections) as the embedded runner.
From a worker:
- ``absorb`` {position, survivor, absorbed, state, absorbed_ids}: a merged-away customer's
  projection state, its personal part sealed (``cdp.scaleout.transit``), keyed by the survivor.
"""

from dataclasses import dataclass
from typing import Any

import orjson



TICK_SUB = 1 << 30  # after every message of its position
# The largest message the relay or a worker sends. The broker (message.max.bytes), the topic
# (max.message.bytes), the producers and the consumers' fetches are all sized for it
# (infra/docker-compose.yml, tests/test_compose.py): a message the broker refused would be sent
# again on every restart, and its partition would never move past it. An event is at most 1 MiB as
# collected (collector.sources' max_event_bytes); sealed, it grows by a third at most.
MAX_BYTES = 16 << 20
MAX_REQUEST_BYTES = MAX_BYTES + (1 << 20)  # a produce request's or record batch's framing on top of it
EVENT_HEAD_BYTES = 1024  # an event message's fields besides the stored event: numbers and a customer id
MAX_EVENT_BYTES = MAX_BYTES - EVENT_HEAD_BYTES  # a stored event larger than this is quarantined by the relay


class MessageTooLarge(ValueError):
    """A stored event too large for any message on the topic (the relay quarantines it)."""


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    position: int
    sub: int
    body: dict[str, Any]

    @property
    def order(self) -> tuple[int, int]:
        return self.position, self.sub


def event(since: int, position: int, sub: int, watermark: int, customer: str, envelope_json: bytes) -> bytes:
    """Splices the stored envelope JSON in as it is: no decode and encode per event, and the numbers
    written by one ``%`` (as orjson writes them) instead of a dict encoded per event."""
    return _EVENT % (since, position, sub, watermark, orjson.dumps(customer), envelope_json)


_EVENT = b'{"kind":"event","since":%d,"position":%d,"sub":%d,"watermark":%d,"customer":%b,"event":%b}'


def merge_out(since: int, position: int, sub: int, absorbed: str, survivor: str) -> bytes:
    return orjson.dumps({"kind": "merge_out", "since": since, "position": position, "sub": sub, "absorbed": absorbed, "survivor": survivor})


def tick(since: int, position: int, watermark: int) -> bytes:
    return orjson.dumps({"kind": "tick", "since": since, "position": position, "sub": TICK_SUB, "watermark": watermark})


def absorb(position: int, survivor: str, absorbed: str, state: dict, absorbed_ids: set[str]) -> bytes:
    return orjson.dumps({"kind": "absorb", "position": position, "sub": 0, "survivor": survivor, "absorbed": absorbed, "state": state, "absorbed_ids": sorted(absorbed_ids)})


def decode(value: bytes) -> Message:
    body = orjson.loads(value)
    return Message(body["kind"], body["position"], body["sub"], body)
