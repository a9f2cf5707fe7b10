"""Channel mix: events per source kind and period, and each kind's share (from the daily_events rollup)."""

from typing import Any

from cdp.analytics.window import Window, truncate
from cdp.warehouse import Warehouse
from cdp.warehouse.views import daily_events


def channel_mix(warehouse: Warehouse, period: str, window: Window) -> list[dict[str, Any]]:
    """Rows: period, source_kind, events, share of the period's events in %."""
    return warehouse.query(
        "SELECT period, source_kind, events, round(100 * events / sum(events) OVER (PARTITION BY period), 1) AS pct FROM ("
        f"SELECT {truncate(period, 'day')} AS period, source_kind, sum(events) AS events FROM `{warehouse.database}`.`{daily_events.ROLLUP.name}` "
        f"WHERE day >= toDate({{start:DateTime64(3, 'UTC')}}) AND day < toDate({{end:DateTime64(3, 'UTC')}}) GROUP BY period, source_kind) "
        "ORDER BY period, events DESC",
        window.params,
    )
