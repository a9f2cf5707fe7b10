"""Every service call a door makes is written to the audit log with its outcome, whatever happens:
``ok``, ``not_found``, ``refused`` (the caller lacks a scope), ``conflict``, ``invalid`` (bad input)
or ``error`` (a store failed, or anything unexpected). Doors never record reads themselves, so no
door can forget to.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cdp.audit import AuditLog
from cdp.errors import STORE_FAULTS, CdpError
from cdp.services import Caller, Conflict, Forbidden, NotFound


@contextmanager
def audited(audit: AuditLog, caller: Caller, action: str, target: str, detail: dict[str, Any] | None = None, success: bool = True) -> Iterator[dict[str, Any]]:
    """E.g. ``with audited(platform.audit, caller, "analytics.read", "funnel", {...}) as detail:``; the
    block may set ``detail["target"]`` to the target it found (a customer id for an identifier).
    ``success`` False: only a failure is recorded here (the block records its successes itself)."""
    detail = {} if detail is None else detail
    outcome = "error"  # until the block ends well: an unexpected failure is audited as such
    try:
        yield detail
        outcome = "ok"
    except NotFound:
        outcome = "not_found"
        raise
    except Forbidden:
        outcome = "refused"
        raise
    except Conflict:
        outcome = "conflict"
        raise
    except STORE_FAULTS:
        raise
    except CdpError:
        outcome = "invalid"
        raise
    finally:
        if success or outcome != "ok":
            audit.record(caller.actor, action, detail.pop("target", target), outcome, detail)
