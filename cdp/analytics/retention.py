"""Retention by cohort: of the customers first seen in a period, how many were active 0, 1, 2 ... periods later."""

from typing import Any

from cdp.analytics.window import Window, truncate
from cdp.queries import customer_events_sql
from cdp.warehouse import Warehouse
from projections.tables import profiles


def retention(warehouse: Warehouse, period: str, cohorts: Window) -> list[dict[str, Any]]:
    """Rows: cohort, offset (periods after the first), active customers, share of the cohort in %."""
    db = warehouse.database
    cohort, active = truncate(period, "p.first_seen"), truncate(period, "e.occurred_at")  # validates period
    return warehouse.query(
        f"SELECT cohort, offset, active, round(100 * active / size, 1) AS pct FROM ("
        f"SELECT {cohort} AS cohort, dateDiff('{period}', cohort, {active}) AS offset, uniqExact(e.customer_id) AS active "
        f"FROM {customer_events_sql(db, 'occurred_at', '1')} AS e "
        f"INNER JOIN (SELECT customer_id, first_seen FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE {cohorts.where('first_seen')}) AS p "
        "ON p.customer_id = e.customer_id WHERE offset >= 0 GROUP BY cohort, offset) AS a "
        f"INNER JOIN (SELECT {truncate(period, 'first_seen')} AS cohort, count() AS size FROM `{db}`.`{profiles.TABLE.name}` FINAL "
        f"WHERE {cohorts.where('first_seen')} GROUP BY cohort) AS s USING (cohort) ORDER BY cohort, offset",
        cohorts.params,
    )
