"""Consent in segment queries: who consents to a purpose at a moment, and who is suppressed for it.

Consent in force at ``at`` is the ``consent_changes`` interval holding ``at``; a customer without
one follows the configured default for the purpose. A customer is suppressed for a purpose when a
current ``suppressions`` row for that purpose (or ``all``) names them, or names an identifier that
now belongs to them (``identities``). Every value travels as a server-side parameter.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from cdp.config import ConsentSettings
from cdp.errors import CdpError
from projections.tables import consent_changes, identities, suppressions
from schemas.payloads.consent import ALL_PURPOSES, PURPOSES

TIME = "DateTime64(3, 'UTC')"


class Params(Protocol):
    def param(self, value: object, type_: str) -> str: ...

    def table(self, name: str) -> str: ...


@dataclass(frozen=True)
class ConsentScope:
    """How a query reads consent: the configured defaults, the moment (now, for an export), and the
    purpose every member must consent to and not be suppressed for (``None``: no such filter)."""

    settings: ConsentSettings = ConsentSettings()
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    purpose: str | None = None


def in_force(b: Params, scope: ConsentScope, purpose: str, granted: bool = True) -> str:
    """Customers (``p.customer_id``) whose consent to ``purpose`` at ``scope.at`` is ``granted``."""
    everyone_else = scope.settings.granted_without_decision(purpose) == granted  # the default says yes: all but those who decided otherwise
    at = b.param(scope.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], TIME)
    decided = (
        f"SELECT customer_id FROM {b.table(consent_changes.TABLE.name)} FINAL WHERE purpose = {b.param(purpose, 'String')} "
        f"AND valid_from <= {at} AND {at} < valid_to AND granted = {b.param(int(granted != everyone_else), 'UInt8')}"
    )
    return f"p.customer_id {'NOT IN' if everyone_else else 'IN'} ({decided})"


def suppressed(b: Params, purpose: str) -> str:
    """Customers suppressed for ``purpose`` (or for all purposes)."""
    rows = f"{b.table(suppressions.TABLE.name)} FINAL WHERE suppressed = 1 AND purpose IN ({b.param(purpose, 'String')}, {b.param(ALL_PURPOSES, 'String')})"
    held = f"SELECT customer_id FROM {b.table(identities.TABLE.name)} FINAL WHERE identifier IN (SELECT identifier FROM {rows})"
    return f"(p.customer_id IN (SELECT customer_id FROM {rows}) OR p.customer_id IN ({held}))"


def contactable(b: Params, scope: ConsentScope, purpose: str) -> str:
    """Consent to ``purpose`` in force at ``scope.at`` and not suppressed for it."""
    return f"({in_force(b, scope, purpose)} AND NOT {suppressed(b, purpose)})"


NO_PURPOSE = "none"  # an explicit "no contact purpose": internal analysis, without consent filtering
CONTACT_COLUMNS = frozenset({"emails", "phones", "social_handles", "user_ids", "traits"})  # profile columns that reach a person


def scope_for(settings: ConsentSettings, purpose: str | None, columns: list[str]) -> ConsentScope:
    """The scope of an export or member list: contact data needs a purpose (or ``none``, said on purpose).
    Errors name the field ``purpose`` as every door calls it (the CLI's ``--purpose``, HTTP's ``?purpose=``)."""
    if purpose is None:
        contact = sorted(CONTACT_COLUMNS.intersection(columns))
        if contact:
            raise CdpError(
                f"purpose: required to export contact data ({', '.join(contact)}); give the purpose you will contact them for "
                f"({', '.join(PURPOSES)}), which leaves out customers without consent or suppressed, or the purpose {NO_PURPOSE} for internal analysis"
            )
    elif purpose != NO_PURPOSE and purpose not in PURPOSES:
        raise CdpError(f"purpose: {purpose[:100]!r} is not one of {', '.join(PURPOSES)} or {NO_PURPOSE}")
    return ConsentScope(settings, purpose=None if purpose in (None, NO_PURPOSE) else purpose)
