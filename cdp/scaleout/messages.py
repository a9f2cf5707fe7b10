"""The messages on the touchpoints topic (JSON, orjson), keyed by customer id; docs/operations.md.

From the relay, in log order, each with the log ``position`` it stands for and a ``sub`` ordering
messages of one position: ``(position, sub)`` increases along every partition, so a worker skips
what it has applied (redelivery, a relay republishing) by comparing it with its tracked pair.
- ``event`` {position, sub, watermark, customer, event}: a touchpoint and the customer identity
  resolution assigned it to; keyed by that customer.
- ``merge_out`` {position, sub, absorbed, survivor}: ``absorbed`` was merged into ``survivor`` by
  the event at ``position``; keyed by the absorbed customer, so it follows all of that customer's
  events on its partition. Sent just before that event (``sub`` 0, 1, ... per merge).
- ``tick`` {position, sub, watermark}: the end of a relay batch, sent to every partition, so each
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


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    position: int
    sub: int
    body: dict[str, Any]

    @property
    def order(self) -> tuple[int, int]:
        return self.position, self.sub


def event(position: int, sub: int, watermark: int, customer: str, envelope_json: bytes) -> bytes:
    """Splices the stored envelope JSON in as it is: no decode and encode per event."""
    head = orjson.dumps({"kind": "event", "position": position, "sub": sub, "watermark": watermark, "customer": customer})
    return head[:-1] + b',"event":' + envelope_json + b"}"


def merge_out(position: int, sub: int, absorbed: str, survivor: str) -> bytes:
    return orjson.dumps({"kind": "merge_out", "position": position, "sub": sub, "absorbed": absorbed, "survivor": survivor})


def tick(position: int, watermark: int) -> bytes:
    return orjson.dumps({"kind": "tick", "position": position, "sub": TICK_SUB, "watermark": watermark})


def absorb(position: int, survivor: str, absorbed: str, state: dict, absorbed_ids: set[str]) -> bytes:
    return orjson.dumps({"kind": "absorb", "position": position, "sub": 0, "survivor": survivor, "absorbed": absorbed, "state": state, "absorbed_ids": sorted(absorbed_ids)})


def decode(value: bytes) -> Message:
    body = orjson.loads(value)
    return Message(body["kind"], body["position"], body["sub"], body)
