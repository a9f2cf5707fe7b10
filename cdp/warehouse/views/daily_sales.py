"""``daily_sales``: purchases and revenue per day, source and currency, kept by a materialized view."""

from cdp.warehouse.statements import quote_string
from cdp.warehouse.views.rollup import Rollup
from projections.tables import Column
from schemas.payloads.sales import PURCHASE_EVENT_TYPES, OrderRefunded

_AMOUNT = "JSONExtractFloat(properties, 'amount')"
_REFUND = f"event_type = {quote_string(OrderRefunded.event_type)}"

ROLLUP = Rollup(
    name="daily_sales",
    doc="Purchases (online orders and in-store purchases) and their amounts per day (UTC), source and currency; refunds "
    "separately. Kept up to date as events arrive; no FINAL needed. Columns: day, source_name, currency, purchases, "
    "revenue, refunds, refunded.",
    keys=(
        Column("day", "Date", "Event day (UTC)."),
        Column("source_name", "LowCardinality(String)", "The configured source (shop, POS, CRM, ...)."),
        Column("currency", "LowCardinality(String)", "Currency of the amounts, as sent."),
    ),
    key_sql=("toDate(occurred_at)", "source_name", "JSONExtractString(properties, 'currency')"),
    states=(
        Column("purchases", "AggregateFunction(groupBitmap, UInt64)", "Event-log positions of purchases."),
        Column("amounts", "AggregateFunction(maxMap, Array(UInt64), Array(Float64))", "Purchase position → amount."),
        Column("refund_events", "AggregateFunction(groupBitmap, UInt64)", "Event-log positions of refunds."),
        Column("refund_amounts", "AggregateFunction(maxMap, Array(UInt64), Array(Float64))", "Refund position → amount."),
    ),
    state_sql=(
        f"groupBitmapStateIf(position, {_REFUND} = 0)",
        f"maxMapStateIf([position], [{_AMOUNT}], {_REFUND} = 0)",
        f"groupBitmapStateIf(position, {_REFUND})",
        f"maxMapStateIf([position], [{_AMOUNT}], {_REFUND})",
    ),
    readable_sql=(
        "groupBitmapMerge(purchases) AS purchases",
        "round(arraySum(maxMapMerge(amounts).2), 2) AS revenue",
        "groupBitmapMerge(refund_events) AS refunds",
        "round(arraySum(maxMapMerge(refund_amounts).2), 2) AS refunded",
    ),
    where=f"event_type IN [{', '.join(quote_string(t) for t in sorted([*PURCHASE_EVENT_TYPES, OrderRefunded.event_type]))}]",
)
