"""Retention by cohort: of the customers first seen in a period, how many were active 0, 1, 2 ... periods later."""

from typing import Any

from cdp.analytics.window import Window, truncate
from cdp.queries import current_customers_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.views import customer_days
from projections.tables import profiles


def retention(warehouse: Warehouse, period: str, cohorts: Window) -> list[dict[str, Any]]:
    """Rows: cohort, offset (periods after the first), active customers, share of the cohort in %.

    Reads the days each customer was active (the ``customer_days`` rollup, ~1 row per customer) rather
    than every event: the customer's periods are its days truncated to the period, once each.
    """
    db = warehouse.database
    cohort, active = truncate(period, "first_seen"), truncate(period, "d")  # validates period
    days = current_customers_sql(db, f"(SELECT customer_id, days FROM `{db}`.`{customer_days.ROLLUP.name}`)", "days")
    return warehouse.query(
        f"SELECT cohort, offset, active, round(100 * active / size, 1) AS pct FROM ("
        f"SELECT cohort, dateDiff('{period}', cohort, active_period) AS offset, count() AS active FROM ("
        f"SELECT p.cohort AS cohort, arrayJoin(arrayDistinct(arrayMap(d -> {active}, groupArrayArray(e.days)))) AS active_period "
        f"FROM {days} AS e "
        f"INNER JOIN (SELECT customer_id, {cohort} AS cohort FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE {cohorts.where('first_seen')}) AS p "
        "ON p.customer_id = e.customer_id GROUP BY e.customer_id, cohort) WHERE offset >= 0 GROUP BY cohort, offset) AS a "
        f"INNER JOIN (SELECT {cohort} AS cohort, count() AS size FROM `{db}`.`{profiles.TABLE.name}` FINAL "
        f"WHERE {cohorts.where('first_seen')} GROUP BY cohort) AS s USING (cohort) ORDER BY cohort, offset",
        cohorts.params,
    )
