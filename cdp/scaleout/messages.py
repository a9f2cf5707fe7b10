"""The messages on the touchpoints topic (JSON, orjson); docs/operations.md.

From the relay, in log order, each relayed item with the log ``position`` it stands for and a
``sub`` ordering items of one position: ``(position, sub)`` increases along every partition, so a
worker skips what it has applied (redelivery, a relay republishing) by comparing it with its
tracked pair. Each message also carries ``since``, the position the relay's batch starts after
(the previous batch's tick on every partition): a partition whose next message starts after a
position it never reached lost messages on the broker, and its worker stops rather than skip them.
- ``events`` {since, watermark, first, last, items}: a partition's share of a relay batch, its
  items in log order, packed into as few messages as ``MAX_BYTES`` and ``CHUNK_ITEMS`` allow (the
  per-message costs of the relay, the broker and faust are paid per chunk, not per event); no key,
  the relay chooses the partition by each item's customer. ``first`` and ``last`` are the
  ``(position, sub)`` of its first and last item; ``watermark`` is the relay batch's. Items:
  - ``event`` {position, sub, customer, event}: a touchpoint, its stored envelope spliced in as it
    is, and the customer identity resolution assigned it to; placed by that customer.
  - ``merge_out`` {position, sub, absorbed, survivor}: ``absorbed`` was merged into ``survivor`` by
    the event at ``position``; placed by the absorbed customer, so it follows all of that
    customer's events on its partition, just before that event (``sub`` 0, 1, ... per merge).
- ``tick`` {since, position, sub, watermark}: the end of a relay batch, its own message on every
  partition (so each partition sees the same watermark, the latest event time so far: the "as of"
  of time-driven projections, as the embedded runner), sent after the partition's chunks; the
  relay's loss detection reads the ticks' offsets.
A worker reads a topic written by a relay from before chunks, whose ``event`` and ``merge_out``
were messages of their own carrying ``since`` (and an event its ``watermark``), as well: ``unpack``
gives the same per-item ``Message`` for both.
From a worker:
- ``absorb`` {position, survivor, absorbed, state, absorbed_ids}: a merged-away customer's
  projection state, its personal part sealed (``cdp.scaleout.transit``), keyed by the survivor.
"""

from collections.abc import Sequence
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
# Items per chunk at most: a worker batch takes whole messages (``cdp.scaleout.batching``), so it
# holds at most max(``kafka.worker_batch``, this) items; at 1,000 events a message, faust's ~100 µs
# a message is 0.1 µs an event.
CHUNK_ITEMS = 1000
HEAD_BYTES = 1024  # a chunk's fields and one event item's besides the stored event: numbers and a customer id
MAX_EVENT_BYTES = MAX_BYTES - HEAD_BYTES  # a stored event larger than this is quarantined by the relay

# (position, sub, head, body): an item as ``chunks`` packs it, its JSON ``head + body + b"}"``, so
# the stored event (an event item's body) is copied once, into its chunk
Item = tuple[int, int, bytes, bytes]


class MessageTooLarge(ValueError):
    """A stored event too large for any message on the topic (the relay quarantines it)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One relayed item (or tick, or absorb) as a worker applies it; ``body`` carries ``since``,
    and an event its ``watermark``, as they were when every item was a message of its own."""

    kind: str
    position: int
    sub: int
    body: dict[str, Any]

    @property
    def order(self) -> tuple[int, int]:
        return self.position, self.sub


def event(position: int, sub: int, customer: str, envelope_json: bytes) -> Item:
    """Splices the stored envelope JSON in as it is: no decode and encode per event, and the numbers
    written by one ``%`` (as orjson writes them) instead of a dict encoded per event."""
    return position, sub, _EVENT_HEAD % (position, sub, orjson.dumps(customer)), envelope_json


_EVENT_HEAD = b'{"kind":"event","position":%d,"sub":%d,"customer":%b,"event":'


def merge_out(position: int, sub: int, absorbed: str, survivor: str) -> Item:
    return position, sub, orjson.dumps({"kind": "merge_out", "position": position, "sub": sub, "absorbed": absorbed, "survivor": survivor})[:-1], b""


def chunks(since: int, watermark: int, items: Sequence[Item]) -> list[bytes]:
    """Items of one partition, in order, packed in order into as few ``events`` messages as
    ``MAX_BYTES`` and ``CHUNK_ITEMS`` allow: a chunk is closed before an item would take it past
    either. An event item is at most ``MAX_EVENT_BYTES`` of stored event and ``HEAD_BYTES`` less
    ``_CHUNK_HEAD_BYTES`` of its own fields, so it always fits a chunk alone."""
    packed: list[bytes] = []
    start, size = 0, _CHUNK_HEAD_BYTES
    for index, (_, _, head, body) in enumerate(items):
        item_bytes = len(head) + len(body) + 1
        if index > start and (size + item_bytes > MAX_BYTES or index - start == CHUNK_ITEMS):
            packed.append(_chunk(since, watermark, items[start:index]))
            start, size = index, _CHUNK_HEAD_BYTES
        size += item_bytes + 1  # and its comma
    if start < len(items):
        packed.append(_chunk(since, watermark, items[start:]))
    return packed


def _chunk(since: int, watermark: int, items: Sequence[Item]) -> bytes:
    """One ``events`` message: its fields, then each item's head, body and closing brace, joined once."""
    (first_position, first_sub, _, _), (last_position, last_sub, _, _) = items[0], items[-1]
    pieces = [_CHUNK_HEAD % (since, watermark, first_position, first_sub, last_position, last_sub)]
    for _, _, head, body in items:
        pieces += (head, body, b"},")
    pieces[-1] = b"}]}"  # the last item's brace, no comma, and the chunk's end
    return b"".join(pieces)


_CHUNK_HEAD = b'{"kind":"events","since":%d,"watermark":%d,"first":[%d,%d],"last":[%d,%d],"items":['
_CHUNK_HEAD_BYTES = len(_CHUNK_HEAD % ((-(1 << 63),) * 6)) + len(b"]}")  # its fields with the longest numbers, and its end


def tick(since: int, position: int, watermark: int) -> bytes:
    return orjson.dumps({"kind": "tick", "since": since, "position": position, "sub": TICK_SUB, "watermark": watermark})


def absorb(position: int, survivor: str, absorbed: str, state: dict, absorbed_ids: set[str]) -> bytes:
    return orjson.dumps({"kind": "absorb", "position": position, "sub": 0, "survivor": survivor, "absorbed": absorbed, "state": state, "absorbed_ids": sorted(absorbed_ids)})


def unpack(value: bytes) -> list[Message]:
    """A message as the items a worker applies, in order: a chunk's items each with the chunk's
    ``since`` (and an event with its ``watermark``), any other message as itself."""
    body = orjson.loads(value)
    if body["kind"] != "events":
        return [Message(body["kind"], body["position"], body["sub"], body)]
    since, watermark = body["since"], body["watermark"]
    unpacked = []
    for item in body["items"]:
        item["since"] = since
        if item["kind"] == "event":
            item["watermark"] = watermark
        unpacked.append(Message(item["kind"], item["position"], item["sub"], item))
    return unpacked
