"""Audit records of refused requests (401, 403), bounded per client address.

Every refusal was a row of the append-only audit log, which no one may delete, written by an
SQLite commit on the event loop: a client without a key could grow the log without limit and bury
the records that matter (found by a security review). So a process records at most ``per_minute``
refusals per client address a minute; past that it counts them, and the count goes into the
address's next record (``unrecorded_before``). A count of an address that sends nothing more is
recorded when the addresses tracked pass ``MAX_ADDRESSES``, else lost with the process.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdp.audit import AuditLog

WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 4096  # tracked at once; past it, each refusal is recorded, untracked


@dataclass
class _Minute:
    started: float
    recorded: int = 0
    unrecorded: int = 0


class RefusalRecords:
    def __init__(self, audit: AuditLog, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self._audit, self._per_minute, self._clock = audit, per_minute, clock
        self._minutes: dict[str, _Minute] = {}

    def record(self, actor: str, target: str, outcome: str, detail: dict[str, Any]) -> None:
        client, now = detail["client"], self._clock()
        minute = self._minutes.get(client)
        if minute is None or now - minute.started >= WINDOW_SECONDS:
            if minute is not None and minute.unrecorded:
                detail = {**detail, "unrecorded_before": minute.unrecorded}
            minute = self._start(client, now)
        if minute is not None:
            if minute.recorded >= self._per_minute:
                minute.unrecorded += 1
                return
            minute.recorded += 1
        self._audit.record(actor, "request.refused", target, outcome, detail)

    def _start(self, client: str, now: float) -> _Minute | None:
        """A new minute for ``client``; None when too many addresses are tracked even after the stale ones are let go."""
        self._minutes.pop(client, None)
        if len(self._minutes) >= MAX_ADDRESSES:
            for stale in [c for c, m in self._minutes.items() if now - m.started >= WINDOW_SECONDS]:
                gone = self._minutes.pop(stale)
                if gone.unrecorded:
                    self._audit.record("anonymous", "request.refused", "*", "unrecorded", {"client": stale, "unrecorded_before": gone.unrecorded})
            if len(self._minutes) >= MAX_ADDRESSES:
                return None
        minute = self._minutes[client] = _Minute(now)
        return minute
