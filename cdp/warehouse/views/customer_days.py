"""``customer_days``: the days each customer was active, kept by a materialized view (for retention).

One row per customer id as written on its events (a customer merged into another keeps its own
row; ``customer_merges`` says where it went). Retention reads ~1 row per customer here instead of
every event. Replay-safe: a set of days does not change when an event is written twice.
"""

from cdp.warehouse.views.rollup import Rollup
from projections.tables import Column

ROLLUP = Rollup(
    name="customer_days",
    doc="The days (UTC) on which each customer had at least one event, kept up to date as events arrive; no FINAL needed. "
    "customer_id is the id written on the events: follow customer_merges for customers merged into another. "
    "Columns: customer_id, days (Array(Date)).",
    keys=(Column("customer_id", "String", "The customer the events were assigned to when processed."),),
    key_sql=("customer_id",),
    states=(Column("days", "AggregateFunction(groupUniqArray, Date)", "The set of days with at least one event."),),
    state_sql=("groupUniqArrayState(toDate(occurred_at))",),
    readable_sql=("groupUniqArrayMerge(days) AS days",),
    partition_by=None,  # one part range per customer: background merges fold a customer's rows into one
)
