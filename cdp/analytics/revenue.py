"""Revenue by lifecycle stage and value tier, from the current profiles."""

from typing import Any

from cdp.warehouse import Warehouse
from projections.tables import customer_value, profiles


def revenue_by_stage_and_tier(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Rows: lifecycle_stage, tier, customers, buyers, revenue, average revenue per buyer, share of all revenue in %."""
    db = warehouse.database
    return warehouse.query(
        "SELECT lifecycle_stage, tier, customers, buyers, revenue, round(revenue / nullIf(buyers, 0), 2) AS revenue_per_buyer, "
        "round(100 * revenue / nullIf(sum(revenue) OVER (), 0), 1) AS revenue_pct FROM ("
        "SELECT p.lifecycle_stage AS lifecycle_stage, if(v.tier = '', 'none', v.tier) AS tier, count() AS customers, "
        "countIf(p.orders > 0) AS buyers, round(sum(p.revenue), 2) AS revenue "
        f"FROM `{db}`.`{profiles.TABLE.name}` AS p FINAL "
        f"LEFT JOIN (SELECT customer_id, tier FROM `{db}`.`{customer_value.TABLE.name}` FINAL) AS v ON v.customer_id = p.customer_id "
        "GROUP BY lifecycle_stage, tier) ORDER BY revenue DESC, lifecycle_stage, tier"
    )
