"""Retention by cohort: of the customers first seen in a period, how many were active 0, 1, 2 ... periods later."""

from typing import Any

from cdp.analytics.filters import Members, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.queries import current_customers_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.views import customer_days
from projections.tables import profiles


def retention(warehouse: Warehouse, period: str, cohorts: Window, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows: cohort, offset (periods after the first), active customers, share of the cohort in %.

    One pass over ~2 rows per customer instead of every event: the days each customer id was active
    (the ``customer_days`` rollup, under the id it is merged into now) and the cohort profiles, grouped
    by customer; each customer's active periods are its days truncated to the period, once each.
    ``members``: only the cohorts' customers in a segment.
    """
    db = warehouse.database
    cohort, active = truncate(period, "first_seen"), truncate(period, "d")  # validates period
    days = current_customers_sql(db, f"(SELECT customer_id, days FROM `{db}`.`{customer_days.ROLLUP.name}`)", "days")
    per_customer = (
        f"SELECT any(c) AS cohort, arrayFilter(o -> o >= 0, arrayMap(p -> dateDiff('{period}', cohort, p), "
        f"arrayDistinct(arrayMap(d -> {active}, groupArrayArray(days))))) AS offsets "
        f"FROM (SELECT customer_id, days, CAST(NULL AS Nullable(Date)) AS c FROM {days} "
        f"UNION ALL SELECT customer_id, [], {cohort} FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE {cohorts.where('first_seen')} AND {members_where(members, 'customer_id')}) "
        "GROUP BY customer_id HAVING countIf(c IS NOT NULL) = 1"  # customers with a current profile in the cohort window
    )
    return warehouse.query(
        "SELECT cohort, offset, active, round(100 * active / size, 1) AS pct FROM ("
        f"SELECT cohort, count() AS size, sumMap(offsets, arrayMap(o -> toUInt64(1), offsets)) AS actives FROM ({per_customer}) GROUP BY cohort"
        ") ARRAY JOIN actives.1 AS offset, actives.2 AS active ORDER BY cohort, offset",
        {**cohorts.params, **members_params(members)},
    )
