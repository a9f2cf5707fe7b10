"""Retention by cohort: of the customers first seen in a period, how many were active 0, 1, 2 ... periods later."""

from typing import Any

from cdp.analytics.filters import Members, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.queries import survivor_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.views import customer_days
from projections.tables import profiles


def retention(warehouse: Warehouse, period: str, cohorts: Window, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows: cohort, offset (periods after the first), active customers, share of the cohort in %.

    One pass over ~1 row per customer instead of every event: the cohort profiles, each joined to the
    days it was active, read from the ``customer_days`` rollup's states merged under the customer
    each id belongs to now (one grouping; reading the rollup's view and then grouping its rows with
    the profiles by customer grouped twice, most of the dashboard's time: BENCHMARKS.md, the
    console). Each customer's active periods are its days truncated to the period, once each.
    ``members``: only the cohorts' customers in a segment.
    """
    db = warehouse.database
    cohort, active = truncate(period, "first_seen"), truncate(period, "d")  # validates period
    days = (
        f"SELECT {survivor_sql(db, 'customer_id')} AS current, groupUniqArrayMerge(days) AS days "
        f"FROM `{db}`.`{customer_days.ROLLUP.state_table}` GROUP BY current"
    )
    per_customer = (  # a cohort customer without a day of activity joins to no row: its days are empty
        f"SELECT p.cohort AS cohort, arrayFilter(o -> o >= 0, arrayMap(x -> dateDiff('{period}', cohort, x), arrayDistinct(arrayMap(d -> {active}, a.days)))) AS offsets "
        f"FROM (SELECT customer_id, {cohort} AS cohort FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE {cohorts.where('first_seen')} AND {members_where(members, 'customer_id')}) AS p "
        f"LEFT JOIN ({days}) AS a ON a.current = p.customer_id"
    )
    return warehouse.query(
        "SELECT cohort, offset, active, round(100 * active / size, 1) AS pct FROM ("
        f"SELECT cohort, count() AS size, sumMap(offsets, arrayMap(o -> toUInt64(1), offsets)) AS actives FROM ({per_customer}) GROUP BY cohort"
        ") ARRAY JOIN actives.1 AS offset, actives.2 AS active ORDER BY cohort, offset",
        {**cohorts.params, **members_params(members)},
    )
