"""``customer_tags``: the tags each customer holds now (see ``tag_changes`` for their history)."""

from projections.tables.profiles import from_ms
from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "customer_tags",
    "Current tags per customer, from the built-in and configured tag rules, evaluated as of the latest event time seen.",
    (
        Column("tags", "Array(LowCardinality(String))", "Tags held now, e.g. valid, active, repeat_buyer, promoter, spend_high, tier_vip."),
        Column("tags_since", "Map(String, DateTime64(3, 'UTC'))", "Tag → when (event time) the customer gained it."),
    ),
)


def row(customer_id: str, current: dict[str, int]) -> dict:
    return {"customer_id": customer_id, "tags": sorted(current), "tags_since": {t: from_ms(ms) for t, ms in sorted(current.items())}}
