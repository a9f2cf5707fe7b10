"""Service (客户投诉处理): each ticket's SLA state, response and resolution times, escalations.

Pure: a function of a customer's ticket facts and an explicit ``as_of``. A ticket's first response
is due ``first_response_hours`` after it opened (24 h by default, docs/domain.md §9); its resolution
``resolution_hours`` after. SLA states: ``met`` (answered in time), ``breached`` (answered late, or
still unanswered past the due time), ``pending`` (unanswered, not yet due).
"""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

HOUR_MS = 3_600_000
SLA_STATES = ("met", "breached", "pending")
TICKET_STATUSES = ("open", "resolved")


class ServiceRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response_hours: float = Field(24, gt=0, description="First response due this many hours after a ticket opens.")
    resolution_hours: float = Field(72, gt=0, description="Resolution due this many hours after a ticket opens.")
    priority_first_response_hours: dict[str, float] = Field(default={}, description="Overrides per priority (low, normal, high, urgent), e.g. urgent = 4.")


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    opened_at: int
    channel: str
    category: str
    priority: str
    is_complaint: bool
    status: str  # one of TICKET_STATUSES
    first_response_at: int | None
    resolved_at: int | None
    escalations: int
    reopens: int
    response_due: int
    response_sla: str  # one of SLA_STATES
    resolution_due: int
    resolution_sla: str
    next_change: int | None


def tickets(profile: dict, as_of: int, rules: ServiceRules) -> list[Ticket]:
    facts: dict[str, list] = {}
    for fact in profile["tickets"]:
        facts.setdefault(fact[2], []).append(fact)
    return [_ticket(ticket, events, profile["ticket_info"].get(ticket), as_of, rules) for ticket, events in sorted(facts.items())]


def _ticket(ticket: str, events: list, info: list | None, as_of: int, rules: ServiceRules) -> Ticket:
    opened = next((ms for ms, _, _, action, _ in events if action == "opened"), events[0][0])
    _, channel, category, priority, complaint = info or [0, "", "", "normal", False]
    responded = next((ms for ms, _, _, action, _ in events if action == "responded"), None)
    status, resolved = "open", None
    for ms, _, _, action, _ in events:
        if action == "resolved":
            status, resolved = "resolved", ms
        elif action in ("reopened", "opened") and ms > opened:
            status, resolved = "open", None
    hours = rules.priority_first_response_hours.get(priority, rules.first_response_hours)
    response_due = opened + int(hours * HOUR_MS)
    resolution_due = opened + int(rules.resolution_hours * HOUR_MS)
    response_sla = _sla(responded, response_due, as_of)
    resolution_sla = _sla(resolved, resolution_due, as_of)
    pending = [due for due, sla in ((response_due, response_sla), (resolution_due, resolution_sla)) if sla == "pending"]
    return Ticket(
        ticket_id=ticket,
        opened_at=opened,
        channel=channel,
        category=category,
        priority=priority,
        is_complaint=complaint,
        status=status,
        first_response_at=responded,
        resolved_at=resolved,
        escalations=sum(1 for e in events if e[3] == "escalated"),
        reopens=sum(1 for e in events if e[3] == "reopened"),
        response_due=response_due,
        response_sla=response_sla,
        resolution_due=resolution_due,
        resolution_sla=resolution_sla,
        next_change=min(pending, default=None),
    )


def _sla(done: int | None, due: int, as_of: int) -> str:
    if done is not None:
        return "met" if done <= due else "breached"
    return "breached" if as_of >= due else "pending"
