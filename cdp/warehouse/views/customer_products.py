"""``customer_products``: the products each customer bought or looked at, kept by a materialized view
(for recommendations, ``cdp.recommendations``).

One row per customer id as written on its events and product: an item of a purchase
(``order_placed``, ``store_purchase_made``) or the product of a ``product_viewed`` or
``product_added_to_cart``. Recommendations read ~1 row per customer and product here instead of
parsing every such event's properties. Replay-safe: a maximum does not change when an event is
written twice.
"""

from cdp.warehouse.statements import quote_string
from cdp.warehouse.views.rollup import Rollup
from projections.tables import Column
from schemas.payloads.sales import PURCHASE_EVENT_TYPES

VIEW_EVENT_TYPES = ("product_viewed", "product_added_to_cart")
_PURCHASE = f"event_type IN ({', '.join(quote_string(t) for t in sorted(PURCHASE_EVENT_TYPES))})"
# one row per product an event names: each item of a purchase, or the viewed product (the same
# arrayJoin expression twice is one join in ClickHouse, so the product and its name stay paired)
_ITEM = f"arrayJoin(if({_PURCHASE}, JSONExtractArrayRaw(properties, 'items'), [properties]))"

ROLLUP = Rollup(
    name="customer_products",
    doc="The products each customer bought or viewed (an item of order_placed or store_purchase_made, or product_viewed, "
    "product_added_to_cart), kept up to date as events arrive; no FINAL needed. customer_id is the id written on the events: "
    "follow customer_merges for customers merged into another. Columns: customer_id, product, bought (1 if bought), "
    "name (as last seen), at (last touched).",
    keys=(Column("customer_id", "String", "The customer the events were assigned to when processed."), Column("product", "String", "The product id.")),
    key_sql=("customer_id", f"JSONExtractString({_ITEM}, 'product_id')"),
    states=(
        Column("bought", "AggregateFunction(max, UInt8)", "1 once the customer bought it."),
        Column("name", "AggregateFunction(argMax, String, DateTime64(3, 'UTC'))", "The product's name as last seen."),
        Column("at", "AggregateFunction(max, DateTime64(3, 'UTC'))", "When the customer last bought or viewed it."),
    ),
    state_sql=(f"maxState(toUInt8({_PURCHASE}))", f"argMaxState(JSONExtractString({_ITEM}, 'name'), occurred_at)", "maxState(occurred_at)"),
    readable_sql=("maxMerge(bought) AS bought", "argMaxMerge(name) AS name", "maxMerge(at) AS at"),
    where=f"event_type IN ({', '.join(quote_string(t) for t in (*sorted(PURCHASE_EVENT_TYPES), *VIEW_EVENT_TYPES))})",
    partition_by=None,
)
