"""``profiles``: the unified profile, latest version per customer."""

from datetime import UTC, datetime

import orjson

from projections.profile import Profile, current_traits
from projections.tables.table import Column, Table, blank_row
from schemas import SOURCE_KINDS

TABLE = Table(
    name="profiles",
    doc="The unified customer profile, one current row per customer. Read with FINAL (or argMax by version): "
    "older versions and customers merged into another are dropped.",
    columns=(
        Column("customer_id", "String", "Stable customer id."),
        Column("version", "UInt64", "Event-log position at which this row was computed; the highest wins."),
        Column("is_deleted", "UInt8", "1 when the customer was merged into another (see merged_into)."),
        Column("merged_into", "String", "The customer this one was merged into, or empty."),
        Column("anonymous_ids", "Array(String)", "Every anonymous id seen."),
        Column("user_ids", "Array(String)", "Every user id seen."),
        Column("emails", "Array(String)", "Every email seen. Personal data."),
        Column("phones", "Array(String)", "Every phone number seen. Personal data."),
        Column("social_handles", "Array(String)", "Every social handle seen, as platform:handle. Personal data."),
        Column("account_ids", "Array(String)", "Enterprise accounts the customer acted for."),
        Column("traits", "String", "Latest value of each trait by event time, as a JSON object. Personal data."),
        Column("first_seen", "DateTime64(3, 'UTC')", "Time of the earliest event."),
        Column("last_seen", "DateTime64(3, 'UTC')", "Time of the latest event."),
        Column("channels", "Array(LowCardinality(String))", "Source kinds the customer used."),
        Column("sources", "Array(String)", "Sources the customer's events came from."),
        Column("events_total", "UInt64", "Number of events."),
        *(Column(f"events_{kind}", "UInt64", f"Number of events from {kind} sources.") for kind in SOURCE_KINDS),
        Column("orders", "UInt32", "Purchases (online orders and in-store purchases)."),
        Column("revenue", "Float64", "Sum of purchase amounts, gross of refunds, in the currencies sent."),
        Column("refunds", "Float64", "Sum of refunded amounts."),
        Column("first_purchase_at", "Nullable(DateTime64(3, 'UTC'))", "Time of the first purchase."),
        Column("last_purchase_at", "Nullable(DateTime64(3, 'UTC'))", "Time of the latest purchase."),
        Column("last_nps", "Nullable(UInt8)", "Latest NPS answer (0-10)."),
        Column("lifecycle_stage", "LowCardinality(String)", "prospect, new, repeat, loyal, at_risk, churned or won_back."),
        Column("lifecycle_since", "DateTime64(3, 'UTC')", "When the customer entered the current stage."),
        Column("lifecycle_cause", "String", "Why the customer is in the current stage."),
        Column("as_of", "DateTime64(3, 'UTC')", "Event time up to which time-driven stages were evaluated."),
    ),
    engine="ReplacingMergeTree(version, is_deleted)",
    order_by="customer_id",
)


def row(profile: Profile, version: int, as_of: int) -> dict:
    ids = profile["ids"]
    purchases = profile["purchases"]
    life = profile["lifecycle"]
    by_kind = profile["by_source_kind"]
    return {
        "customer_id": profile["customer_id"],
        "version": version,
        "is_deleted": 0,
        "merged_into": "",
        "anonymous_ids": ids["anonymous_id"],
        "user_ids": ids["user_id"],
        "emails": ids["email"],
        "phones": ids["phone"],
        "social_handles": ids["social"],
        "account_ids": ids["account_id"],
        "traits": orjson.dumps(current_traits(profile)).decode(),
        "first_seen": from_ms(profile["first_seen"]),
        "last_seen": from_ms(profile["last_seen"]),
        "channels": [kind for kind in SOURCE_KINDS if by_kind.get(kind)],
        "sources": sorted(profile["by_source"]),
        "events_total": sum(by_kind.values()),
        **{f"events_{kind}": by_kind.get(kind, 0) for kind in SOURCE_KINDS},
        "orders": len(purchases),
        "revenue": round(profile["revenue"], 6),
        "refunds": round(profile["refunds"], 6),
        "first_purchase_at": from_ms(purchases[0][0]) if purchases else None,
        "last_purchase_at": from_ms(purchases[-1][0]) if purchases else None,
        "last_nps": profile["nps"][-1][2] if profile["nps"] else None,
        "lifecycle_stage": life["stage"] or "",
        "lifecycle_since": from_ms(life["since"] or profile["first_seen"]),
        "lifecycle_cause": life["cause"],
        "as_of": from_ms(as_of),
    }


def tombstone(customer_id: str, merged_into: str, version: int) -> dict:
    """The row that retires a customer merged into another."""
    return {**blank_row(TABLE), "customer_id": customer_id, "version": version, "is_deleted": 1, "merged_into": merged_into}


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)

