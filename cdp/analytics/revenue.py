"""Revenue by lifecycle stage and value tier (from the current profiles, or from the purchases of a
date range), and revenue over time by day, week or month (from the purchase events)."""

from typing import Any

from cdp.analytics.filters import Members, breakdown_sql, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.queries import customer_events_sql, survivor_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.statements import quote_string
from projections.tables import customer_value, events, profiles
from schemas.payloads.sales import PURCHASE_EVENT_TYPES, OrderRefunded

_PURCHASES = f"event_type IN ({', '.join(quote_string(t) for t in sorted(PURCHASE_EVENT_TYPES))})"
_REFUND = f"event_type = {quote_string(OrderRefunded.event_type)}"
_AMOUNT = "JSONExtractFloat(properties, 'amount')"


def revenue_by_stage_and_tier(warehouse: Warehouse, window: Window | None = None, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows: lifecycle_stage, tier, customers, buyers, revenue, average revenue per buyer, share of all revenue in %.

    Customers are grouped by their stage and tier now; their orders and revenue are all of them (the
    profile's, gross of refunds), or with ``window`` those of the purchases in it. ``members``: a
    segment's customers only."""
    db = warehouse.database
    if window is None:
        bought, params = "p.orders AS orders, p.revenue AS revenue", {}
        source = ""
    else:
        bought, params = "b.orders AS orders, b.revenue AS revenue", window.params
        in_window = customer_events_sql(db, "properties", f"{_PURCHASES} AND {window.where('occurred_at')}")
        source = f"LEFT JOIN (SELECT customer_id, count() AS orders, sum({_AMOUNT}) AS revenue FROM {in_window} GROUP BY customer_id) AS b ON b.customer_id = p.customer_id "
    return warehouse.query(
        "SELECT lifecycle_stage, tier, customers, buyers, revenue, round(revenue / nullIf(buyers, 0), 2) AS revenue_per_buyer, "
        "round(100 * revenue / nullIf(sum(revenue) OVER (), 0), 1) AS revenue_pct FROM ("
        "SELECT lifecycle_stage, tier, count() AS customers, countIf(orders > 0) AS buyers, round(sum(revenue), 2) AS revenue FROM ("
        f"SELECT p.lifecycle_stage AS lifecycle_stage, if(v.tier = '', 'none', v.tier) AS tier, {bought} "
        f"FROM `{db}`.`{profiles.TABLE.name}` AS p FINAL "
        f"LEFT JOIN (SELECT customer_id, tier FROM `{db}`.`{customer_value.TABLE.name}` FINAL) AS v ON v.customer_id = p.customer_id {source}"
        f"WHERE {members_where(members, 'p.customer_id')}) GROUP BY lifecycle_stage, tier) ORDER BY revenue DESC, lifecycle_stage, tier",
        {**params, **members_params(members)},
    )


def revenue_trend(warehouse: Warehouse, period: str, window: Window, members: Members | None = None, breakdown: str | None = None) -> list[dict[str, Any]]:
    """Rows per period (and breakdown value) and currency, as sent: purchases, revenue (their amounts),
    refunds and the amounts refunded, net revenue. Amounts of different currencies are never added.
    ``members``: purchases of a segment's customers only (counted for the customer their buyer was merged into)."""
    db = warehouse.database
    by = breakdown_sql(breakdown)
    shown = "period, breakdown, currency" if breakdown else "period, currency"
    return warehouse.query(
        f"SELECT {shown}, purchases, revenue, refunds, refunded, round(revenue - refunded, 2) AS net_revenue FROM ("
        f"SELECT {truncate(period, 'occurred_at')} AS period, {by} AS breakdown, JSONExtractString(properties, 'currency') AS currency, "
        f"countIf({_REFUND} = 0) AS purchases, round(sumIf({_AMOUNT}, {_REFUND} = 0), 2) AS revenue, "
        f"countIf({_REFUND}) AS refunds, round(sumIf({_AMOUNT}, {_REFUND}), 2) AS refunded "
        f"FROM `{db}`.`{events.TABLE.name}` FINAL WHERE ({_PURCHASES} OR {_REFUND}) AND {window.where('occurred_at')} "
        f"AND {members_where(members, survivor_sql(db, 'customer_id'))} GROUP BY period, breakdown, currency) ORDER BY {shown}",
        {**window.params, **members_params(members)},
    )
