"""Privacy for every door: forgetting a customer (right to erasure, an administrator's act) and the
operator's side of the suppression list. Each is audited whatever its outcome, with identifiers
hashed (``cdp.audit.identifier_digest``), never in clear.

An operator's suppression entry is an event in the log (``identifier_suppressed`` /
``identifier_unsuppressed`` from the source ``operator``), so it survives a rebuild and has a time
and an author like any other fact; it takes effect when the runner processes it.
"""

import re
from datetime import UTC, datetime
from typing import Any

from cdp.audit import identifier_digest
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.privacy.forget import AlreadyForgotten, NoSuchCustomer, forget
from cdp.services import Caller, Conflict, NotFound
from cdp.services.audited import audited
from ingestion.validation import Invalid, validate
from projections.tables import suppressions
from schemas import Envelope
from schemas.payloads.consent import ALL_PURPOSES, PURPOSES, SUPPRESSED_IDENTIFIERS

ADMIN = "admin"
OPERATOR_SOURCE = "operator"
SUPPRESSED, UNSUPPRESSED = "identifier_suppressed", "identifier_unsuppressed"
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,}$")


class PrivacyService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def forget(self, identifier: str, process: bool = True) -> list[dict]:
        """Forgets every customer ``identifier`` names; one receipt per customer (``cdp.privacy.forget``,
        which audits each customer forgotten). A refusal is audited here. ``process``: see ``forget``."""
        with audited(self.platform.audit, self.caller, "customer.forget", identifier_digest(identifier), success=False):
            self.caller.require(ADMIN)
            try:
                return forget(self.platform, identifier, self.caller.actor, process=process)
            except NoSuchCustomer as error:
                raise NotFound(str(error)) from None
            except AlreadyForgotten as error:
                raise Conflict(str(error)) from None

    def suppress(self, identifier: str, purpose: str = ALL_PURPOSES, note: str | None = None) -> Envelope:
        """Records that ``identifier`` is never contacted or exported for ``purpose`` (or all); returns the event."""
        return self._record(SUPPRESSED, identifier, purpose, note)

    def unsuppress(self, identifier: str, purpose: str = ALL_PURPOSES, note: str | None = None) -> Envelope:
        """Lifts a suppression (the latest decision by time wins, so an older bounce arriving later stays lifted)."""
        return self._record(UNSUPPRESSED, identifier, purpose, note)

    def suppressions(self, purpose: str | None = None) -> list[dict[str, Any]]:
        """Identifiers suppressed now (for ``purpose`` and for all, or every one), with purpose, reason, time and source."""
        with audited(self.platform.audit, self.caller, "suppression.list", purpose or "*"):
            self.caller.require(ADMIN)
            if purpose is not None and purpose not in (*PURPOSES, ALL_PURPOSES):
                raise CdpError(f"purpose: {purpose[:50]!r} is not one of {', '.join(PURPOSES)} or {ALL_PURPOSES}")
            w = self.platform.warehouse
            where = "suppressed = 1" + ("" if purpose is None else " AND purpose IN ({purpose:String}, {all:String})")
            return w.query(
                f"SELECT identifier, purpose, reason, since, source_name AS source, note, customer_id FROM `{w.database}`.`{suppressions.TABLE.name}` FINAL "
                f"WHERE {where} ORDER BY identifier, purpose",
                {} if purpose is None else {"purpose": purpose, "all": ALL_PURPOSES},
            )

    def _record(self, event_type: str, identifier: str, purpose: str, note: str | None) -> Envelope:
        action = "suppression.add" if event_type == SUPPRESSED else "suppression.remove"
        with audited(self.platform.audit, self.caller, action, identifier_digest(identifier), {"purpose": purpose[:50]}):
            self.caller.require(ADMIN)
            event = operator_event(event_type, identifier, purpose, note, datetime.now(UTC))
            self.platform.append([event])
        return event


def parse_identifier(text: str) -> tuple[str, str]:
    """``email:ann@example.com`` → ("email", "ann@example.com"); a bare email or phone number is recognised."""
    kind, sep, value = text.partition(":")
    if sep and kind in SUPPRESSED_IDENTIFIERS:
        return kind, value
    if "@" in text:
        return "email", text
    if _PHONE.match(text):
        return "phone", text
    raise CdpError(f"identifier: {text[:200]!r} is not email:..., phone:... or user_id:... (nor a bare email or phone number)")


def operator_event(event_type: str, identifier: str, purpose: str, note: str | None, at: datetime) -> Envelope:
    """The validated event an operator's suppression records."""
    kind, value = parse_identifier(identifier)
    stamp = at.strftime("%Y%m%dT%H%M%S%fZ")
    envelope = {
        "message_id": f"{event_type}-{kind}:{value}-{purpose}-{stamp}",
        "event_type": event_type,
        "source_kind": "service",
        "source_name": OPERATOR_SOURCE,
        "occurred_at": at,
        "identifiers": {kind: value},
        "properties": {"purpose": purpose, "reason": "operator", **({"note": note} if note else {})},
    }
    try:
        return validate(envelope, at)
    except Invalid as error:
        raise CdpError(str(error)) from None
