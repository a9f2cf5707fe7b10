"""Read-side queries the CLI and API share: profiles by any identifier, summaries."""

from typing import Any

from cdp.warehouse import Warehouse
from cdp.warehouse.views import survivors
from projections.tables import customer_merges, events, identities, lifecycle_transitions, profiles

from schemas import PERSON_ID_TYPES as IDENTIFIER_TYPES


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


def timeline(warehouse: Warehouse, customer_id: str, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """The customer's events (and those of customers merged into it), latest in the log first; page with ``before`` (a log position)."""
    from cdp.timetravel import merged_customers

    return warehouse.query(
        "SELECT position, occurred_at, event_type, source_kind, source_name, customer_id, properties "
        f"FROM `{warehouse.database}`.`{events.TABLE.name}` FINAL WHERE customer_id IN {{ids:Array(String)}} AND position < {{before:UInt64}} "
        "ORDER BY position DESC LIMIT {limit:UInt64}",
        {"ids": merged_customers(warehouse, customer_id), "limit": limit, "before": before if before is not None else 2**63},
    )


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


def customer_events_sql(database: str, columns: str, where: str) -> str:
    """A subquery of ``customer_id`` and ``columns`` of the events matching ``where``, where the customer
    is the one the event belongs to now: events of a customer merged into another count for the survivor.

    Merges are followed one step (a customer merged into one that was merged again keeps the middle id).
    """
    return current_customers_sql(database, f"(SELECT customer_id, {columns} FROM `{database}`.`{events.TABLE.name}` FINAL WHERE {where})", columns)


def current_customers_sql(database: str, source: str, columns: str) -> str:
    """``source`` (a subquery of ``customer_id`` and ``columns``) with each customer id replaced by the
    customer it belongs to now (merges followed one step, as in ``customer_events_sql``), through the
    in-memory join table ``customer_survivors`` (``cdp.warehouse.views.survivors``)."""
    return (
        f"(SELECT if(m.survivor = '', e.customer_id, m.survivor) AS customer_id, {columns} "
        f"FROM {source} AS e ANY LEFT JOIN `{database}`.`{survivors.NAME}` AS m ON m.absorbed = e.customer_id)"
    )
