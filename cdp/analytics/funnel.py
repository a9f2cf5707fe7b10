"""Funnel: how many customers did step 1, then step 2 within the window, ... (ClickHouse windowFunnel)."""

from typing import Any

from cdp.analytics.window import Window
from cdp.errors import CdpError
from cdp.queries import current_customers_sql
from cdp.warehouse import Warehouse
from projections.tables import events


def funnel(warehouse: Warehouse, steps: list[str], window_days: float, period: Window) -> list[dict[str, Any]]:
    """One row per step: customers who reached it in order, each step within ``window_days`` of the first."""
    if not 2 <= len(steps) <= 32:
        raise CdpError("a funnel takes 2 to 32 steps")
    params: dict[str, Any] = {f"s{i}": step for i, step in enumerate(steps)}
    conditions = ", ".join(f"event_type = {{s{i}:String}}" for i in range(len(steps)))
    # No FINAL (a third of the cost at 10M events): a replayed event is an identical row (same customer,
    # type and time), and windowFunnel's level is the same whether an event is seen once or twice.
    matching = (f"(SELECT customer_id, event_type, occurred_at FROM `{warehouse.database}`.`{events.TABLE.name}` "
                f"WHERE event_type IN {{steps:Array(String)}} AND {period.where('occurred_at')})")
    rows = warehouse.query(
        # windowFunnel needs DateTime (seconds), not DateTime64
        f"SELECT level, count() AS customers FROM (SELECT customer_id, windowFunnel({{window:UInt64}})(toDateTime(occurred_at), {conditions}) AS level "
        f"FROM {current_customers_sql(warehouse.database, matching, 'event_type, occurred_at')} GROUP BY customer_id) WHERE level > 0 GROUP BY level",
        {**params, "steps": steps, "window": int(window_days * 86400), **period.params},
    )
    reached = {row["level"]: row["customers"] for row in rows}
    result, first = [], None
    for i, step in enumerate(steps, start=1):
        customers = sum(n for level, n in reached.items() if level >= i)
        first = customers if first is None else first
        result.append({"step": i, "event_type": step, "customers": customers, "of_first_pct": round(100 * customers / first, 1) if first else 0.0})
    return result
