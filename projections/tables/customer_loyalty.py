"""``customer_loyalty``: loyalty points and membership tier."""

from projections.loyalty import Loyalty
from projections.tables.table import Column, customer_table, fields_of

TABLE = customer_table(
    "customer_loyalty",
    "Loyalty programme (docs/domain.md §10): points from purchases and referrals, minus refunds, minus redemptions; tier by the balance, lifetime points or spend.",
    (
        Column("points", "Int64", "Points balance: lifetime points minus points redeemed (negative when overdrawn)."),
        Column("points_from_purchases", "Int64", "Points earned by purchases."),
        Column("points_from_referrals", "Int64", "Points earned by referrals."),
        Column("points_refunded", "Int64", "Points taken back for refunds."),
        Column("tier", "LowCardinality(String)", "Membership tier, e.g. member, silver, gold, platinum."),
        Column("next_tier", "LowCardinality(String)", "The next tier up, or empty at the top."),
        Column("to_next_tier", "Float64", "Points (or spend) still needed for it."),
        # added by warehouse migration 26
        Column("lifetime_points", "Int64", "Points earned (purchases and referrals, minus refunds), redemptions not subtracted."),
        Column("points_redeemed", "Int64", "Points redeemed (points_redeemed events)."),
        Column("redemptions", "UInt32", "Number of redemptions."),
        Column("overdrawn", "UInt8", "1 when more points were redeemed than earned: the balance (points) is negative."),
    ),
)


def row(customer_id: str, loyalty: Loyalty) -> dict:
    return {"customer_id": customer_id, **fields_of(loyalty)}
