"""NPS, CSAT and CSI trend per period, from every answer (survey_answers)."""

from typing import Any

from cdp.analytics.filters import Members, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.queries import survivor_sql
from cdp.warehouse import Warehouse
from projections.tables import survey_answers


def satisfaction_trend(warehouse: Warehouse, period: str, window: Window, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows per period: NPS (% promoters − % detractors), CSAT (% of 4-5 answers), average CSI, and the answer counts.
    ``members``: answers of a segment's customers only (an answer counts for the customer its author was merged into)."""
    return warehouse.query(
        f"SELECT {truncate(period, 'at')} AS period, "
        "countIf(kind = 'nps') AS nps_answers, "
        "round(100 * (countIf(kind = 'nps' AND category = 'promoter') - countIf(kind = 'nps' AND category = 'detractor')) / nullIf(countIf(kind = 'nps'), 0), 1) AS nps, "
        "countIf(kind = 'csat') AS csat_answers, "
        "round(100 * countIf(kind = 'csat' AND score >= 4) / nullIf(countIf(kind = 'csat'), 0), 1) AS csat_pct, "
        "countIf(kind = 'csi') AS csi_answers, round(avgIf(score, kind = 'csi'), 2) AS csi "
        f"FROM `{warehouse.database}`.`{survey_answers.TABLE.name}` FINAL WHERE kind IN ('nps', 'csat', 'csi') AND {window.where('at')} AND {members_where(members, survivor_sql(warehouse.database, 'customer_id'))} "
        "GROUP BY period ORDER BY period",
        {**window.params, **members_params(members)},
    )
