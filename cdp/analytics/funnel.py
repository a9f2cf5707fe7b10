"""Funnel: how many customers did step 1, then step 2 within the window, ... (ClickHouse windowFunnel)."""

from typing import Any

from cdp.analytics.filters import Members, breakdown_sql, members_params, members_where
from cdp.analytics.window import Window
from cdp.errors import CdpError
from cdp.queries import current_customers_sql
from cdp.warehouse import Warehouse
from projections.tables import events


def funnel(warehouse: Warehouse, steps: list[str], window_days: float, period: Window, members: Members | None = None, breakdown: str | None = None) -> list[dict[str, Any]]:
    """One row per step: customers who reached it in order, each step within ``window_days`` of the first.

    ``members``: only the customers of a segment. ``breakdown``: one row per step and value, the value
    being the one on the customer's first step-1 event in the period (where they entered the funnel);
    the rows then carry it as ``breakdown``."""
    if not 2 <= len(steps) <= 32:
        raise CdpError("steps: a funnel takes 2 to 32 steps")
    params: dict[str, Any] = {f"s{i}": step for i, step in enumerate(steps)}
    conditions = ", ".join(f"event_type = {{s{i}:String}}" for i in range(len(steps)))
    # No FINAL (a third of the cost at 10M events): a replayed event is an identical row (same customer,
    # type and time), and windowFunnel's level is the same whether an event is seen once or twice.
    matching = (f"(SELECT customer_id, event_type, occurred_at, {breakdown_sql(breakdown)} AS entered_by FROM `{warehouse.database}`.`{events.TABLE.name}` "
                f"WHERE event_type IN {{steps:Array(String)}} AND {period.where('occurred_at')})")
    rows = warehouse.query(
        # windowFunnel needs DateTime (seconds), not DateTime64
        f"SELECT entered_by, level, count() AS customers FROM (SELECT customer_id, argMinIf(entered_by, occurred_at, event_type = {{s0:String}}) AS entered_by, "
        f"windowFunnel({{window:UInt64}})(toDateTime(occurred_at), {conditions}) AS level "
        f"FROM {current_customers_sql(warehouse.database, matching, 'event_type, occurred_at, entered_by')} WHERE {members_where(members, 'customer_id')} "
        "GROUP BY customer_id) WHERE level > 0 GROUP BY entered_by, level",
        {**params, "steps": steps, "window": int(window_days * 86400), **period.params, **members_params(members)},
    )
    groups = sorted({row["entered_by"] for row in rows}) if breakdown else [""]
    return [({"breakdown": group} if breakdown else {}) | shown for group in groups for shown in _steps(steps, rows, group)]


def _steps(steps: list[str], rows: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    reached = {row["level"]: row["customers"] for row in rows if row["entered_by"] == group}
    result, first = [], None
    for i, step in enumerate(steps, start=1):
        customers = sum(n for level, n in reached.items() if level >= i)
        first = customers if first is None else first
        result.append({"step": i, "event_type": step, "customers": customers, "of_first_pct": round(100 * customers / first, 1) if first else 0.0})
    return result
