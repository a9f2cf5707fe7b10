"""Read-side queries the services share: a profile row, a timeline page, summaries, and events counted
for the customer they belong to now."""

from typing import Any

from cdp.warehouse import Warehouse
from cdp.warehouse.statements import quote_string
from cdp.warehouse.views import survivors
from projections.tables import events, lifecycle_transitions, profiles

MERGE_DEPTH = 8  # merges of a chain the warehouse-side lookup follows (``survivor_sql``)


def profile(warehouse: Warehouse, customer_id: str) -> dict[str, Any] | None:
    """The current profile row with its lifecycle history, or None."""
    db = warehouse.database
    rows = warehouse.query(f"SELECT * FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE customer_id = {{id:String}}", {"id": customer_id})
    if not rows:
        return None
    transitions = warehouse.query(
        f"SELECT at, from_stage, to_stage, cause, cause_code, cause_params FROM `{db}`.`{lifecycle_transitions.TABLE.name}` FINAL "
        "WHERE customer_id = {id:String} ORDER BY at, to_stage",
        {"id": customer_id},
    )
    return {**rows[0], "lifecycle_history": transitions}


def customer_events(
    warehouse: Warehouse, customer_ids: list[str], columns: str, where: str = "TRUE", params: dict[str, Any] | None = None, latest_first: bool = False, limit: int | None = None
) -> list[dict[str, Any]]:
    """The events of ``customer_ids`` (a customer and those merged into it) matching ``where``, one
    row per event, in log order (``latest_first``: newest first), at most ``limit``.

    Read through the ``events`` table's by-customer projection (warehouse migration 30): the
    table's own key starts with the event type, so a read by customer there scans every part. The
    server reads no projection under FINAL, so the rows are made unique here instead: rows with the
    same log position are copies of one event (a replayed batch written twice, until a merge drops
    one), so one row per position is exactly what FINAL keeps."""
    order = "position DESC" if latest_first else "position"
    return warehouse.query(
        f"SELECT {columns} FROM `{warehouse.database}`.`{events.TABLE.name}` WHERE customer_id IN {{customer_ids:Array(String)}} AND ({where}) "
        f"ORDER BY {order} LIMIT 1 BY position" + ("" if limit is None else f" LIMIT {int(limit)}"),
        {"customer_ids": customer_ids, **(params or {})},
    )


def timeline(warehouse: Warehouse, customer_ids: list[str], limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """The events of ``customer_ids`` (a customer and those merged into it), latest in the log first;
    page with ``before`` (a log position)."""
    return customer_events(
        warehouse, customer_ids, "position, occurred_at, event_type, source_kind, source_name, customer_id, properties",
        "position < {before:UInt64}", {"before": before if before is not None else 2**63}, latest_first=True, limit=limit,
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
    is the one the event belongs to now: events of a customer merged into another count for the
    survivor, and for the survivor's survivor (merge chains, up to ``MERGE_DEPTH`` merges)."""
    return current_customers_sql(database, f"(SELECT customer_id, {columns} FROM `{database}`.`{events.TABLE.name}` FINAL WHERE {where})", columns)


def current_customers_sql(database: str, source: str, columns: str) -> str:
    """``source`` (a subquery of ``customer_id`` and ``columns``) with each customer id replaced by the
    customer it belongs to now, through the in-memory join table ``customer_survivors``
    (``cdp.warehouse.views.survivors``)."""
    return f"(SELECT {survivor_sql(database, 'e.customer_id')} AS customer_id, {columns} FROM {source} AS e)"


def survivor_sql(database: str, customer: str) -> str:
    """The customer the SQL expression ``customer`` belongs to now: merges followed through
    ``customer_survivors`` one ``joinGet`` (a hash lookup) per merge of a chain, A → B → C giving C,
    up to ``MERGE_DEPTH`` merges (``cdp.customers`` follows chains of any length). ``if``
    evaluates a branch only for the rows that take it: over 10 million events, eight levels took
    what one did."""
    table = quote_string(f"{database}.{survivors.NAME}")
    expression, previous = "", customer
    for level in range(1, MERGE_DEPTH + 1):
        found = f"_survivor{level}"
        expression += f"if((joinGet({table}, 'survivor', {previous}) AS {found}) = '', {previous}, "
        previous = found
    return expression + previous + ")" * MERGE_DEPTH
