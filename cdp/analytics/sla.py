"""SLA compliance: share of tickets answered and resolved in time, per period (by opening) and channel."""

from typing import Any

from cdp.analytics.filters import Members, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.warehouse import Warehouse
from projections.tables import tickets


def sla_compliance(warehouse: Warehouse, period: str, window: Window, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows per period and channel (the ticket's): tickets, complaints, % first response in time, % resolved in time (of those
    decided), median response minutes; ``members``: of a segment's customers only (a ticket's row follows its customer's merges)."""
    return warehouse.query(
        f"SELECT {truncate(period, 'opened_at')} AS period, channel, count() AS tickets, countIf(is_complaint = 1) AS complaints, "
        "round(100 * countIf(response_sla = 'met') / nullIf(countIf(response_sla != 'pending'), 0), 1) AS response_in_time_pct, "
        "round(100 * countIf(resolution_sla = 'met') / nullIf(countIf(resolution_sla != 'pending'), 0), 1) AS resolved_in_time_pct, "
        "countIf(response_sla = 'pending' OR resolution_sla = 'pending') AS pending, "
        "round(quantile(0.5)(response_minutes), 1) AS median_response_minutes "
        f"FROM `{warehouse.database}`.`{tickets.TABLE.name}` FINAL WHERE {window.where('opened_at')} AND {members_where(members, 'customer_id')} "
        "GROUP BY period, channel ORDER BY period, channel",
        {**window.params, **members_params(members)},
    )
