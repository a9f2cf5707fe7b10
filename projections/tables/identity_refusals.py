"""``identity_refusals``: joins the identity limits refused (over-merge protection, explainable)."""

from datetime import datetime

from projections.identity import Refusal, id_type
from projections.tables.table import Column, Table

TABLE = Table(
    name="identity_refusals",
    doc="One row per identifier join refused by the identity limits: a merge of two customers or an identifier not attached.",
    columns=(
        Column("customer_id", "String", "The customer the event was assigned to."),
        Column("other_customer", "String", "The customer that keeps the identifier (a refused merge), or empty (identifier left unattached)."),
        Column("identifier", "String", "The identifier (type:value) that would have joined them. Personal data."),
        Column("id_type", "LowCardinality(String)", "Its type."),
        Column("position", "UInt64", "Event-log position of the event."),
        Column("occurred_at", "DateTime64(3, 'UTC')", "Event time."),
        Column("reason", "String", "Which limit, e.g. 'merge refused: one customer would hold 2 phone identifiers (limit 1)'."),
    ),
    engine="ReplacingMergeTree",
    order_by="(customer_id, position, identifier)",
)


def row(refusal: Refusal) -> dict:
    return {
        "customer_id": refusal.customer,
        "other_customer": refusal.other,
        "identifier": refusal.identifier,
        "id_type": id_type(refusal.identifier),
        "position": refusal.position,
        "occurred_at": datetime.fromisoformat(refusal.occurred_at),
        "reason": refusal.reason,
    }
