"""``customer_value``: RFM scores, CLV estimate, tier, repurchases, amount, referrals."""

from projections.tables.table import Column, customer_table
from projections.value import Value

TABLE = customer_table(
    "customer_value",
    "Customer value (docs/domain.md §6): RFM scores from fixed thresholds, historic CLV (AOV × purchases per year × lifetime years × margin), "
    "tier ordinary / vip / super.",
    (
        Column("recency_score", "UInt8", "R: 5 = bought within 30 days ... 1 = over 365 days ago; 0 = never bought."),
        Column("frequency_score", "UInt8", "F: 1-5 by number of purchases (0 = none)."),
        Column("monetary_score", "UInt8", "M: 1-5 by net purchase amount (0 = none)."),
        Column("rfm", "String", "The three scores as one code, e.g. 545."),
        Column("clv", "Float64", "Lifetime value estimate, historic AOV model, in the currencies sent."),
        Column("tier", "LowCardinality(String)", "ordinary, vip or super (普通/贵宾/超级客户)."),
        Column("repurchase_count", "UInt32", "Purchases after the first (回购次数)."),
        Column("purchase_amount", "Float64", "Gross purchase amount (购买金额)."),
        Column("net_amount", "Float64", "Purchase amount minus refunds."),
        Column("average_order_value", "Float64", "Net amount per purchase."),
        Column("referral_count", "UInt32", "People referred (推荐数量)."),
    ),
)


def row(customer_id: str, v: Value) -> dict:
    return {
        "customer_id": customer_id,
        "recency_score": v.recency,
        "frequency_score": v.frequency,
        "monetary_score": v.monetary,
        "rfm": f"{v.recency}{v.frequency}{v.monetary}",
        "clv": v.clv,
        "tier": v.tier,
        "repurchase_count": v.repurchases,
        "purchase_amount": v.amount,
        "net_amount": v.net_amount,
        "average_order_value": v.average_order_value,
        "referral_count": v.referrals,
    }
