"""Who may be contacted, read at send time: a customer's consent to the action's purpose in force
now and no suppression for it (the rules exports follow, ``cdp.segments.consent``), and the
contact details a destination needs (first email and phone, the ``language`` and ``name`` traits)
and the identifier the delivery's event names the customer by. One query per batch and purpose.

A customer forgotten (``erased``) or unknown to the warehouse is never contacted.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from cdp.config import ConsentSettings
from cdp.segments.consent import ConsentScope, in_force, suppressed
from cdp.warehouse import Warehouse
from projections.tables import profiles


@dataclass(frozen=True)
class Reachable:
    """A customer as a send sees them: ``refusal`` is why they may not be contacted for the purpose
    (no_consent, suppressed, erased, merged into another customer, unknown), empty when they may."""

    customer_id: str
    refusal: str
    contact: dict[str, Any] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)


class _Params:
    def __init__(self, database: str):
        self.database = database
        self.params: dict[str, Any] = {}

    def param(self, value: object, type_: str) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{type_}}}"

    def table(self, name: str) -> str:
        return f"`{self.database}`.`{name}`"


def reachable(warehouse: Warehouse, settings: ConsentSettings, customer_ids: Iterable[str], purpose: str, at: datetime) -> dict[str, Reachable]:
    """Each customer's reachability for ``purpose`` ("" for a staff alert: no consent needed) at ``at``."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    b = _Params(warehouse.database)
    checks = f", {in_force(b, ConsentScope(settings, at), purpose)} AS consenting, {suppressed(b, purpose)} AS suppressed" if purpose else ", 1 AS consenting, 0 AS suppressed"
    rows = warehouse.query(
        f"SELECT p.customer_id AS customer_id, p.emails AS emails, p.phones AS phones, p.user_ids AS user_ids, p.anonymous_ids AS anonymous_ids, p.traits AS traits, p.is_deleted AS merged{checks} "
        f"FROM {b.table(profiles.TABLE.name)} AS p FINAL WHERE p.customer_id IN {b.param(ids, 'Array(String)')}",
        b.params,
    )
    found = {row["customer_id"]: _reachable(row) for row in rows}
    return {c: found.get(c) or Reachable(c, "unknown") for c in ids}


def _reachable(row: dict[str, Any]) -> Reachable:
    traits = orjson.loads(row["traits"] or "{}")
    if traits.get("erased"):
        return Reachable(row["customer_id"], "erased")
    if row["merged"]:
        return Reachable(row["customer_id"], "merged")
    contact = {
        "customer_id": row["customer_id"],
        "email": row["emails"][0] if row["emails"] else None,
        "phone": row["phones"][0] if row["phones"] else None,
        "language": traits.get("language") or traits.get("locale"),
        "name": traits.get("name") or traits.get("first_name"),
    }
    identifiers = next(({kind: values[0]} for kind, values in (("user_id", row["user_ids"]), ("email", row["emails"]), ("phone", row["phones"]), ("anonymous_id", row["anonymous_ids"])) if values), {})
    refusal = "suppressed" if row["suppressed"] else "" if row["consenting"] else "no_consent"
    return Reachable(row["customer_id"], refusal, contact, identifiers)
