"""Lifecycle flow: how many customers moved from each stage to each other stage between two dates."""

from typing import Any

from cdp.analytics.filters import Members, members_params, members_where
from cdp.analytics.window import Window
from cdp.warehouse import Warehouse
from projections.tables import lifecycle_transitions


def lifecycle_flow(warehouse: Warehouse, period: Window, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows: from_stage ('' for customers first seen), to_stage, customers, transitions; ``members``: of a segment's customers only."""
    return warehouse.query(
        "SELECT from_stage, to_stage, uniqExact(customer_id) AS customers, count() AS transitions "
        f"FROM `{warehouse.database}`.`{lifecycle_transitions.TABLE.name}` FINAL WHERE {period.where('at')} AND {members_where(members, 'customer_id')} "
        "GROUP BY from_stage, to_stage ORDER BY customers DESC, from_stage, to_stage",
        {**period.params, **members_params(members)},
    )
