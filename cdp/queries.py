"""Read-side queries the CLI and API share: profiles by any identifier, summaries."""

from typing import Any

from cdp.warehouse import Warehouse
from projections.tables import customer_merges, events, identities, lifecycle_transitions, profiles

IDENTIFIER_TYPES = ("user_id", "email", "phone", "anonymous_id", "social")


def find_customers(warehouse: Warehouse, identifier: str) -> list[str]:
    """Customers matching a customer id or any identifier value (email, phone, user id, anonymous id, platform:handle)."""
    text = identifier.strip()
    candidates = [f"{t}:{text.lower() if t == 'email' else text}" for t in IDENTIFIER_TYPES]
    rows = warehouse.query(
        f"SELECT DISTINCT customer_id FROM `{warehouse.database}`.`{identities.TABLE.name}` FINAL "
        "WHERE identifier IN {candidates:Array(String)} "
        f"UNION DISTINCT SELECT survivor FROM `{warehouse.database}`.`{customer_merges.TABLE.name}` WHERE absorbed = {{text:String}} "
        f"UNION DISTINCT SELECT customer_id FROM `{warehouse.database}`.`{profiles.TABLE.name}` FINAL WHERE customer_id = {{text:String}}",
        {"candidates": candidates, "text": text},
    )
    return sorted(row["customer_id"] for row in rows)


def profile(warehouse: Warehouse, customer_id: str) -> dict[str, Any] | None:
    """The current profile row with its lifecycle history, or None."""
    db = warehouse.database
    rows = warehouse.query(f"SELECT * FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE customer_id = {{id:String}}", {"id": customer_id})
    if not rows:
        return None
    transitions = warehouse.query(
        f"SELECT at, from_stage, to_stage, cause FROM `{db}`.`{lifecycle_transitions.TABLE.name}` FINAL "
        "WHERE customer_id = {id:String} ORDER BY at, to_stage",
        {"id": customer_id},
    )
    return {**rows[0], "lifecycle_history": transitions}


def events_per_source(warehouse: Warehouse) -> list[dict[str, Any]]:
    return warehouse.query(
        f"SELECT source_kind, count() AS events FROM `{warehouse.database}`.`{events.TABLE.name}` FINAL GROUP BY source_kind ORDER BY source_kind"
    )


def customers_per_stage(warehouse: Warehouse) -> list[dict[str, Any]]:
    return warehouse.query(
        f"SELECT lifecycle_stage AS stage, count() AS customers FROM `{warehouse.database}`.`{profiles.TABLE.name}` FINAL "
        "GROUP BY stage ORDER BY customers DESC"
    )


def most_connected_customer(warehouse: Warehouse) -> str | None:
    """A customer seen on the most channels (ties: most events), to show what unification looks like."""
    rows = warehouse.query(
        f"SELECT customer_id FROM `{warehouse.database}`.`{profiles.TABLE.name}` FINAL "
        "ORDER BY length(channels) DESC, events_total DESC, customer_id LIMIT 1"
    )
    return rows[0]["customer_id"] if rows else None
