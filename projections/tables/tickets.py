"""``tickets``: each service ticket's state, SLA and times."""

from projections.service import Ticket
from projections.tables.profiles import from_ms
from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "tickets",
    "One row per service ticket (docs/domain.md §9): SLA state of first response and resolution, escalations, response and resolution "
    "minutes. Overall figures: aggregate this table, e.g. countIf(response_sla = 'breached') / count().",
    (
        Column("ticket_id", "String", "The helpdesk's ticket id."),
        Column("opened_at", "DateTime64(3, 'UTC')", "When it opened."),
        Column("channel", "LowCardinality(String)", "phone, email, chat, ..."),
        Column("category", "LowCardinality(String)", "Ticket category."),
        Column("priority", "LowCardinality(String)", "low, normal, high or urgent."),
        Column("is_complaint", "UInt8", "1 for a complaint (投诉)."),
        Column("status", "LowCardinality(String)", "open or resolved."),
        Column("first_response_at", "Nullable(DateTime64(3, 'UTC'))", "First response."),
        Column("resolved_at", "Nullable(DateTime64(3, 'UTC'))", "Resolution (empty while open)."),
        Column("response_minutes", "Nullable(Float64)", "Minutes to first response."),
        Column("resolution_minutes", "Nullable(Float64)", "Minutes to resolution."),
        Column("escalations", "UInt16", "Times escalated."),
        Column("reopens", "UInt16", "Times reopened."),
        Column("response_due", "DateTime64(3, 'UTC')", "When the first response is due."),
        Column("response_sla", "LowCardinality(String)", "met, breached or pending."),
        Column("resolution_due", "DateTime64(3, 'UTC')", "When resolution is due."),
        Column("resolution_sla", "LowCardinality(String)", "met, breached or pending."),
    ),
    key=("ticket_id",),
)


def row(customer_id: str, t: Ticket) -> dict:
    return {
        "customer_id": customer_id,
        "ticket_id": t.ticket_id,
        "opened_at": from_ms(t.opened_at),
        "channel": t.channel,
        "category": t.category,
        "priority": t.priority,
        "is_complaint": int(t.is_complaint),
        "status": t.status,
        "first_response_at": from_ms(t.first_response_at),
        "resolved_at": from_ms(t.resolved_at),
        "response_minutes": _minutes(t.opened_at, t.first_response_at),
        "resolution_minutes": _minutes(t.opened_at, t.resolved_at),
        "escalations": t.escalations,
        "reopens": t.reopens,
        "response_due": from_ms(t.response_due),
        "response_sla": t.response_sla,
        "resolution_due": from_ms(t.resolution_due),
        "resolution_sla": t.resolution_sla,
    }


def _minutes(start: int, end: int | None) -> float | None:
    return None if end is None else round((end - start) / 60_000, 3)
