"""``customer_traits``: computed traits of the unified profile (counts, channels, consent, account)."""

import orjson

from projections.tables.profiles import from_ms
from projections.tables.table import Column, customer_table
from projections.traits import ComputedTraits

TABLE = customer_table(
    "customer_traits",
    "Computed traits per customer: events per type and source, preferred channel, last activity per channel, consent, enterprise accounts.",
    (
        Column("events_by_type", "Map(String, UInt64)", "Events per event type."),
        Column("events_by_source", "Map(String, UInt64)", "Events per source (connector or write key)."),
        Column("preferred_channel", "LowCardinality(String)", "Source kind with the most meaningful interactions (ties: website, social, sales, service, survey)."),
        Column("last_activity_by_channel", "Map(String, DateTime64(3, 'UTC'))", "Source kind → time of its latest event."),
        Column("consent", "Map(String, String)", "Purpose or channel → latest consent value by event time (traits named consent_*), as JSON text."),
        Column("account_ids", "Array(String)", "Enterprise accounts (companies) the customer acted for."),
    ),
)


def row(customer_id: str, t: ComputedTraits) -> dict:
    return {
        "customer_id": customer_id,
        "events_by_type": t.events_by_type,
        "events_by_source": t.events_by_source,
        "preferred_channel": t.preferred_channel,
        "last_activity_by_channel": {k: from_ms(v) for k, v in t.last_activity_by_channel.items()},
        "consent": {k: _text(v) for k, v in t.consent.items()},
        "account_ids": t.account_ids,
    }


def _text(value) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
