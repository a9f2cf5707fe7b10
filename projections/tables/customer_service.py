"""``customer_service``: service figures per customer, from their tickets."""

from projections.service import Ticket
from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "customer_service",
    "Service per customer: tickets, open, SLA breaches, escalations, average response and resolution times.",
    (
        Column("tickets", "UInt32", "Tickets opened."),
        Column("complaints", "UInt32", "Of which complaints."),
        Column("open_tickets", "UInt32", "Tickets not resolved."),
        Column("response_breaches", "UInt32", "Tickets whose first response was (or is) late."),
        Column("resolution_breaches", "UInt32", "Tickets whose resolution was (or is) late."),
        Column("escalations", "UInt32", "Escalations over all tickets."),
        Column("avg_response_minutes", "Nullable(Float64)", "Average minutes to first response."),
        Column("avg_resolution_minutes", "Nullable(Float64)", "Average minutes to resolution."),
        Column("sla_state", "LowCardinality(String)", "breached if any open ticket is past a due time, else ok (none without tickets)."),
    ),
)


def row(customer_id: str, tickets: list[Ticket]) -> dict:
    responses = [t.first_response_at - t.opened_at for t in tickets if t.first_response_at is not None]
    resolutions = [t.resolved_at - t.opened_at for t in tickets if t.resolved_at is not None]
    open_late = any(t.status == "open" and "breached" in (t.response_sla, t.resolution_sla) for t in tickets)
    return {
        "customer_id": customer_id,
        "tickets": len(tickets),
        "complaints": sum(t.is_complaint for t in tickets),
        "open_tickets": sum(t.status == "open" for t in tickets),
        "response_breaches": sum(t.response_sla == "breached" for t in tickets),
        "resolution_breaches": sum(t.resolution_sla == "breached" for t in tickets),
        "escalations": sum(t.escalations for t in tickets),
        "avg_response_minutes": round(sum(responses) / len(responses) / 60_000, 3) if responses else None,
        "avg_resolution_minutes": round(sum(resolutions) / len(resolutions) / 60_000, 3) if resolutions else None,
        "sla_state": "none" if not tickets else "breached" if open_late else "ok",
    }
