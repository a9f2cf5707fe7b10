"""``suppressions``: identifiers that must not be contacted or exported, per purpose."""

from projections.consent import Suppression
from projections.tables.profiles import from_ms
from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "suppressions",
    "The suppression list (docs/domain.md §13): per identifier and purpose (or all), the latest suppress or unsuppress by event time, from "
    "unsubscribes, bounces, complaints and operators (cdp suppress). A customer holding a suppressed identifier is left out of exports "
    "for that purpose whatever their consent. Personal data (identifier values).",
    (
        Column("identifier", "String", "type:value: email:..., phone:... or user_id:..."),
        Column("purpose", "LowCardinality(String)", "The purpose suppressed, or all."),
        Column("suppressed", "UInt8", "1 while suppressed, 0 once lifted."),
        Column("since", "DateTime64(3, 'UTC')", "When it was suppressed or lifted (event time)."),
        Column("reason", "LowCardinality(String)", "unsubscribe, bounce, complaint or operator."),
        Column("source_name", "LowCardinality(String)", "Configured source that reported it (operator for cdp suppress)."),
        Column("note", "String", "Free text given with it, e.g. the operator's ticket."),
        Column("position", "UInt64", "Event-log position of the deciding event."),
    ),
    key=("identifier", "purpose"),
)


def row(customer_id: str, s: Suppression) -> dict:
    return {
        "customer_id": customer_id,
        "identifier": s.identifier,
        "purpose": s.purpose,
        "suppressed": int(s.suppressed),
        "since": from_ms(s.ms),
        "reason": s.reason,
        "source_name": s.source_name,
        "note": s.note,
        "position": s.position,
    }
