"""Audit records of refused requests (the API's 401 and 403, the console's refused sign-ins), bounded per client address.

Every refusal was a row of the append-only audit log, which no one may delete, written by an
SQLite commit on the event loop: a client without a key could grow the log without limit and bury
the records that matter (found by a security review). So each door of a process records at most
``per_minute`` refusals per client address a minute; past that it counts them, and the count goes
into the address's next record (``unrecorded_before``). Past ``MAX_ADDRESSES`` addresses tracked
at once (many addresses, or forged ``X-Forwarded-For`` from a trusted proxy address), the others
share one more allowance. A count of an address that sends nothing more is recorded when the
stale addresses are let go, else lost with the process.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdp.audit import AuditLog

WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 4096  # tracked at once; past it, the addresses not tracked share one allowance
_OTHERS = "(other addresses)"


@dataclass
class _Minute:
    started: float
    recorded: int = 0
    unrecorded: int = 0


class RefusalRecords:
    def __init__(self, audit: AuditLog, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self._audit, self._per_minute, self._clock = audit, per_minute, clock
        self._minutes: dict[str, _Minute] = {}

    def record(self, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any]) -> None:
        """``AuditLog.record``, within the bound of ``detail["client"]``."""
        now = self._clock()
        client = detail["client"] if detail["client"] in self._minutes or self._room(now, action) else _OTHERS
        minute = self._minutes.get(client)
        if minute is None or now - minute.started >= WINDOW_SECONDS:
            if minute is not None and minute.unrecorded:
                detail = {**detail, "unrecorded_before": minute.unrecorded}
            self._minutes.pop(client, None)
            minute = self._minutes[client] = _Minute(now)  # last: the dict stays in the order the minutes started
        if minute.recorded >= self._per_minute:
            minute.unrecorded += 1
            return
        minute.recorded += 1
        self._audit.record(actor, action, target, outcome, detail)

    def _room(self, now: float, action: str) -> bool:
        """Whether another address can be tracked, once the stale ones are let go, oldest first
        (their counts recorded): a look at the oldest minute when none is stale."""
        while len(self._minutes) >= MAX_ADDRESSES:
            oldest = next(iter(self._minutes))
            if now - self._minutes[oldest].started < WINDOW_SECONDS:
                return False
            gone = self._minutes.pop(oldest)
            if gone.unrecorded:
                self._audit.record("anonymous", action, "*", "unrecorded", {"client": oldest, "unrecorded_before": gone.unrecorded})
        return True
