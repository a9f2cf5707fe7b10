"""``daily_events``: events per day, source and event type (the channel mix), kept by a materialized view."""

from cdp.warehouse.views.rollup import Rollup
from projections.tables import Column

ROLLUP = Rollup(
    name="daily_events",
    doc="Events per day (UTC), source kind, source and event type, kept up to date as events arrive; no FINAL needed. "
    "Columns: day, source_kind, source_name, event_type, events.",
    keys=(
        Column("day", "Date", "Event day (UTC)."),
        Column("source_kind", "LowCardinality(String)", "website, social, sales, service or survey."),
        Column("source_name", "LowCardinality(String)", "The configured source."),
        Column("event_type", "LowCardinality(String)", "What happened."),
    ),
    key_sql=("toDate(occurred_at)", "source_kind", "source_name", "event_type"),
    states=(Column("events", "AggregateFunction(groupBitmap, UInt64)", "Event-log positions (each event counted once, even if written twice)."),),
    state_sql=("groupBitmapState(position)",),
    readable_sql=("groupBitmapMerge(events) AS events",),
)
