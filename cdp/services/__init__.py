"""Services: one per use case (profiles, segments, analytics, privacy and consent, access, sources,
ingest, backup). Every rule lives here (consent purposes and defaults, masking without ``pii:read``,
scopes, audit records, validation), so the doors (``cdp.cli``, ``cdp.api``, the console) only
parse, call one service and render, and all of them agree. Services use the adapters the
``Platform`` opens (event store, state store, warehouse, key store) and never import a door.
See docs/architecture.md.
"""

from dataclasses import dataclass

from cdp.audit import cli_actor
from cdp.errors import CdpError
from cdp.refusals import refusal

PII = "pii:read"


class NotFound(CdpError):
    """What the caller asked for does not exist (HTTP 404)."""


class Forbidden(CdpError):
    """The caller's scopes do not allow it (HTTP 403)."""


class Conflict(CdpError):
    """The state of things forbids it (e.g. a customer already forgotten; HTTP 409)."""


@dataclass(frozen=True)
class Caller:
    """Who asks, for the audit log and for what they may see. ``scopes`` None: every scope (an
    operator at the CLI, who can read the data directory anyway)."""

    actor: str
    scopes: frozenset[str] | None = None

    @property
    def sees_personal_data(self) -> bool:
        return self.allows(PII)

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes or "admin" in self.scopes

    def require(self, scope: str) -> None:
        if not self.allows(scope):
            raise refusal(Forbidden, "needs_scope", scope=scope)

    def may_test_personal_data(self, where: list[str]) -> None:
        """Refuses what the caller sent that tests personal data (``where``: the places that do) unless
        they see it: a count or a breakdown over it reads the value behind the mask."""
        if where and not self.sees_personal_data:
            raise refusal(Forbidden, "personal_condition", path=where[0], scope=PII)


def operator() -> Caller:
    """The caller of a CLI command: the OS user, with every scope."""
    return Caller(cli_actor())
