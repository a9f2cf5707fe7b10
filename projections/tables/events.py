"""``events``: every accepted touchpoint, one row per event, as stored in the event log."""

from datetime import datetime

import orjson

from projections.tables.table import Column, Table
from projections.touchpoint import Touchpoint

TABLE = Table(
    name="events",
    doc="Every accepted touchpoint, one row per event. Read with FINAL for exact counts (a replayed batch may be written twice until merged).",
    columns=(
        Column("position", "UInt64", "Position of the event in the event log (total order)."),
        Column("message_id", "String", "The sender's message id, unique per source."),
        Column("event_type", "LowCardinality(String)", "What happened, e.g. page_viewed, order_placed, nps_answered."),
        Column("source_kind", "LowCardinality(String)", "website, social, sales, service or survey."),
        Column("source_name", "LowCardinality(String)", "The configured source that sent the event."),
        Column("occurred_at", "DateTime64(3, 'UTC')", "When it happened (event time)."),
        Column("received_at", "DateTime64(3, 'UTC')", "When the platform accepted it."),
        Column("customer_id", "String", "The customer the event was assigned to when processed; after a later merge, see customer_merges."),
        Column("anonymous_id", "String", "Anonymous (device/cookie) id, or empty."),
        Column("user_id", "String", "The sender's user id, or empty."),
        Column("email", "String", "Email address, or empty. Personal data."),
        Column("phone", "String", "Phone number, or empty. Personal data."),
        Column("social", "Array(String)", "Social handles as platform:handle. Personal data."),
        Column("account_id", "String", "Enterprise account (company) id, or empty."),
        Column("traits", "String", "Traits sent with the event, as a JSON object. Personal data."),
        Column("properties", "String", "The event type's properties, as a JSON object (JSONExtract* to read)."),
        Column("context", "String", "Context (page, campaign, device, ...), as a JSON object. Personal data."),
    ),
    engine="ReplacingMergeTree",
    partition_by="toYYYYMM(occurred_at)",
    order_by="(event_type, occurred_at, position)",
)
# the projection (warehouse migration 30) that finds one customer's events without a scan: `cdp.queries.customer_events` reads it
BY_CUSTOMER = "by_customer"


def row(tp: Touchpoint, customer_id: str) -> dict:
    event = tp.event
    ids = event["identifiers"]
    occurred = datetime.fromisoformat(event["occurred_at"])
    received = event["received_at"]
    return {
        "position": tp.position,
        "message_id": event["message_id"],
        "event_type": event["event_type"],
        "source_kind": event["source_kind"],
        "source_name": event["source_name"],
        "occurred_at": occurred,
        "received_at": occurred if not received or received == event["occurred_at"] else datetime.fromisoformat(received),  # mostly the same moment: parsed once
        "customer_id": customer_id,
        "anonymous_id": ids.get("anonymous_id") or "",
        "user_id": ids.get("user_id") or "",
        "email": ids.get("email") or "",
        "phone": ids.get("phone") or "",
        "social": [f"{s['platform']}:{s['handle']}" for s in ids.get("social", ())],
        "account_id": ids.get("account_id") or "",
        "traits": orjson.dumps(event["traits"]).decode(),
        "properties": orjson.dumps(event["properties"]).decode(),
        "context": orjson.dumps(event["context"]).decode(),
    }
