"""Every read a service answers is written to the audit log with its outcome, whatever the door.

``ok`` when it answered, ``not_found`` (``NotFound``), ``forbidden`` (``Forbidden``), ``invalid``
(any other ``CdpError``: the request was wrong), ``error`` (a failure of a store or of the code).
The target may be named once known (a customer found by an identifier): until then it is what
the caller asked for, hashed when it may be personal (``cdp.audit.identifier_digest``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cdp.audit import AuditLog
from cdp.errors import STORE_FAULTS, CdpError
from cdp.services import Caller, Forbidden, NotFound


@dataclass
class Audited:
    """What the record will say; the service sets ``target`` and adds to ``detail`` as it learns."""

    target: str
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(audit: AuditLog, caller: Caller, action: str, target: str, detail: dict[str, Any] | None = None) -> Iterator[Audited]:
    record = Audited(target, dict(detail or {}))
    outcome = "error"  # until it answers: an unexpected failure is audited as such
    try:
        yield record
        outcome = "ok"
    except NotFound:
        outcome = "not_found"
        raise
    except Forbidden:
        outcome = "forbidden"
        raise
    except STORE_FAULTS:
        raise
    except CdpError:
        outcome = "invalid"
        raise
    finally:
        audit.record(caller.actor, action, record.target, outcome, record.detail)
