"""Who may read, and what they did: read keys (create, rotate, revoke, list) and the audit log, for
every door. All of it is an administrator's; every key change is audited whatever its outcome.
A key's secret is returned once, by ``create`` and ``rotate``, and never stored or listed.
"""

import re
from datetime import UTC, datetime, timedelta

from cdp.audit import AuditRecord, Verification
from cdp.errors import CdpError
from cdp.keys import ReadKey
from cdp.platform import Platform
from cdp.services import Caller
from cdp.services.audited import audited

ADMIN = "admin"
MAX_NAME = 200  # of a key name as the audit log keeps it (a longer one is refused anyway)
_DURATION = re.compile(r"^(\d{1,9})([mhd])$")


class AccessService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def create_key(self, name: str, scopes: list[str]) -> tuple[ReadKey, str]:
        """A new read key and its token (shown only now)."""
        with audited(self.platform.audit, self.caller, "key.create", name[:MAX_NAME]) as detail:
            self.caller.require(ADMIN)
            key, token = self.platform.read_keys.create(name, scopes)
            detail.update(id=key.id, scopes=list(key.scopes))
        return key, token

    def rotate_key(self, name: str) -> tuple[ReadKey, str]:
        """The key with a new secret (its token shown only now); the old secret stops working now."""
        with audited(self.platform.audit, self.caller, "key.rotate", name[:MAX_NAME]) as detail:
            self.caller.require(ADMIN)
            key, token = self.platform.read_keys.rotate(name)
            detail["id"] = key.id
        return key, token

    def revoke_key(self, name: str) -> ReadKey:
        with audited(self.platform.audit, self.caller, "key.revoke", name[:MAX_NAME]) as detail:
            self.caller.require(ADMIN)
            key = self.platform.read_keys.revoke(name)
            detail["id"] = key.id
        return key

    def keys(self) -> list[ReadKey]:
        """Every read key, revoked ones too (their secrets are stored hashed and cannot be shown)."""
        with audited(self.platform.audit, self.caller, "key.list", "*"):
            self.caller.require(ADMIN)
            return self.platform.read_keys.list()

    def audit_records(self, since: str | None = None, actor: str | None = None, action: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The latest ``limit`` records, oldest first; ``since``: a date or time (2025-10-01, 2025-10-01T12:00)
        or a duration ago (30m, 12h, 7d); ``action`` may end in ``*`` for a prefix (``key.*``). Reading the
        log is itself recorded (after the read, so the reader's own record is not among what it reads)."""
        with audited(self.platform.audit, self.caller, "audit.read", "*", {"actor": actor, "action": action}):
            self.caller.require(ADMIN)
            if limit < 1:
                raise CdpError(f"limit: expected at least 1, got {limit}")
            return self.platform.audit.query(_since(since), actor, action, limit)

    def verify_audit(self) -> Verification:
        """Whether the hash chain is whole, and else the first record changed, removed or reordered."""
        with audited(self.platform.audit, self.caller, "audit.verify", "*"):
            self.caller.require(ADMIN)
            return self.platform.audit.verify()


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    duration = _DURATION.match(text.strip())
    if duration:
        amount, unit = int(duration.group(1)), duration.group(2)
        try:
            return datetime.now(UTC) - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
        except OverflowError:
            raise CdpError(f"since: {text!r} reaches back before the year 1") from None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CdpError(f"since: expected a date or time like 2025-10-01 or 2025-10-01T12:00, or 30m / 12h / 7d, got {text[:50]!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
