"""Recommendations as a use case: a customer's top products, bought or viewed together with theirs
(``cdp.recommendations``), for the CLI, the 360° profile and, later, message templates.

The rules: reading needs ``profiles:read``; N is 1 to ``MAX_N``; an identifier resolves to the
customer it belongs to now (``cdp.customers``); every call is audited (``recommendations.read``).
Products are catalogue data, not personal data, so nothing is masked.
"""

from typing import Any

from cdp.audit import identifier_digest
from cdp.customers import Customers
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.recommendations import for_customer
from cdp.services import Caller, NotFound
from cdp.services.audited import audited

READ = "profiles:read"
MAX_N = 100


class RecommendationService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform = platform
        self.caller = caller

    def for_customer(self, customer_id: str, n: int = 10) -> list[dict[str, Any]]:
        """The top ``n`` products for the customer ``customer_id`` (or an identifier of theirs) names
        now, best first: ``product, name, score, because`` (the customer's product that led to it, or
        ``popular``)."""
        digest = identifier_digest(customer_id)
        with audited(self.platform.audit, self.caller, "recommendations.read", digest, {"identifier": digest, "n": n}) as detail:
            self.caller.require(READ)
            if not 1 <= n <= MAX_N:
                raise CdpError(f"n: expected 1 to {MAX_N}, got {n}")
            customers = Customers(self.platform.warehouse)
            found = customers.resolve_all(customer_id)
            if not found:
                raise NotFound(f"no customer has the identifier {customer_id[:200]!r} (has `cdp run` processed its events?)")
            detail["target"] = found[0]
            return for_customer(self.platform.warehouse, found[0], n, customers.merged_into(found[0]))
