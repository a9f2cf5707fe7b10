"""Channel mix: events per source kind and period, and each kind's share (from the daily_events rollup;
from the events themselves for a segment's customers or a breakdown by utm source or campaign)."""

from typing import Any

from cdp.analytics.filters import Members, breakdown_sql, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.queries import survivor_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.views import daily_events
from projections.tables import events

BREAKDOWNS = ("source", "campaign")  # the channel (source kind) is the mix's own dimension


def channel_mix(warehouse: Warehouse, period: str, window: Window, members: Members | None = None, breakdown: str | None = None) -> list[dict[str, Any]]:
    """Rows: period, source_kind, (breakdown: its value), events, share of the period's events in %.

    ``members``: events of a segment's customers only (an event counts for the customer its sender
    was merged into)."""
    by, db = breakdown_sql(breakdown, BREAKDOWNS), warehouse.database
    if members is None and breakdown is None:
        counted = (f"SELECT {truncate(period, 'day')} AS period, source_kind, sum(events) AS events FROM `{db}`.`{daily_events.ROLLUP.name}` "
                   "WHERE day >= toDate({start:DateTime64(3, 'UTC')}) AND day < toDate({end:DateTime64(3, 'UTC')}) GROUP BY period, source_kind")
    else:
        counted = (f"SELECT {truncate(period, 'occurred_at')} AS period, source_kind, {by} AS breakdown, count() AS events "
                   f"FROM `{db}`.`{events.TABLE.name}` FINAL WHERE {window.where('occurred_at')} "
                   f"AND {members_where(members, survivor_sql(db, 'customer_id'))} GROUP BY period, source_kind, breakdown")
    shown = "period, source_kind, breakdown" if breakdown else "period, source_kind"
    return warehouse.query(
        f"SELECT {shown}, events, round(100 * events / sum(events) OVER (PARTITION BY period), 1) AS pct FROM ({counted}) "
        "ORDER BY period, events DESC" + (", breakdown" if breakdown else ""),
        {**window.params, **members_params(members)},
    )
