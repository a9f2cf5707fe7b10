"""``consent_changes``: the consent history per customer and purpose as intervals in event time."""

from projections.consent import Interval
from projections.tables.profiles import from_ms
from projections.tables.table import Column, Table

TABLE = Table(
    name="consent_changes",
    doc="Consent history (docs/domain.md §13): one row per interval [valid_from, valid_to) in which a customer's consent to a purpose stood "
    "unchanged, so any event joins the consent in force at its time: e.occurred_at >= valid_from AND e.occurred_at < valid_to. The "
    "last interval is open (valid_to = 2100-01-01). Outside every interval the configured default applies. Read with FINAL: an "
    "interval later reshaped (a late event, a merge) is retracted or rewritten.",
    columns=(
        Column("customer_id", "String", "The customer."),
        Column("purpose", "LowCardinality(String)", "email_marketing, sms_marketing, phone_marketing, personalisation, analytics or third_party_sharing."),
        Column("valid_from", "DateTime64(3, 'UTC')", "Start of the interval (inclusive): the decision's event time, or when a consent expired."),
        Column("valid_to", "DateTime64(3, 'UTC')", "End of the interval (exclusive): the next decision's event time, the expiry, or 2100-01-01 while in force."),
        Column("granted", "UInt8", "1 when consent was in force during the interval."),
        Column("cause", "LowCardinality(String)", "consent_given, consent_withdrawn, consent_preferences_updated, or expired."),
        Column("position", "UInt64", "Event-log position of the deciding event (for an expired interval, of the consent that expired)."),
        Column("source_kind", "LowCardinality(String)", "Source kind that captured the decision."),
        Column("source_name", "LowCardinality(String)", "Configured source that captured the decision."),
        Column("channel", "LowCardinality(String)", "Where it was captured, empty if not given."),
        Column("legal_basis", "LowCardinality(String)", "Legal basis given with a consent; empty for a withdrawal."),
        Column("wording_version", "String", "Version of the consent text shown, empty if not given."),
        Column("version", "UInt64", "Event-log position at which this was computed; the highest wins."),
        Column("is_deleted", "UInt8", "1 when the interval was retracted."),
    ),
    engine="ReplacingMergeTree(version, is_deleted)",
    order_by="(customer_id, purpose, valid_from, position)",
)


def row(customer_id: str, i: Interval, version: int, deleted: bool = False) -> dict:
    return {
        "customer_id": customer_id,
        "purpose": i.purpose,
        "valid_from": from_ms(i.valid_from),
        "valid_to": from_ms(i.valid_to),
        "granted": int(i.granted),
        "cause": i.cause,
        "position": i.position,
        "source_kind": i.source_kind,
        "source_name": i.source_name,
        "channel": i.channel,
        "legal_basis": i.legal_basis,
        "wording_version": i.wording_version,
        "version": version,
        "is_deleted": int(deleted),
    }
