"""Service touchpoints (服务互动): tickets and complaints (客户投诉) on every channel."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.payloads.base import Code, Name, Payload
from schemas.personal import Personal

Priority = Literal["low", "normal", "high", "urgent"]


class TicketPayload(Payload):
    ticket_id: Code


class TicketOpened(TicketPayload):
    event_type = "ticket_opened"
    source_kind = "service"
    channel: Code = "email"
    category: Name | None = None
    priority: Priority = "normal"
    is_complaint: bool = False
    subject: Personal[Annotated[str, Field(max_length=2000)]] = ""


class TicketFirstResponded(TicketPayload):
    event_type = "ticket_first_responded"
    source_kind = "service"
    agent: Name | None = None


class TicketEscalated(TicketPayload):
    event_type = "ticket_escalated"
    source_kind = "service"
    level: Annotated[int, Field(ge=1, le=10)] = 1
    reason: Name | None = None


class TicketResolved(TicketPayload):
    event_type = "ticket_resolved"
    source_kind = "service"
    resolution: Name | None = None
    root_cause: Name | None = None


class TicketReopened(TicketPayload):
    event_type = "ticket_reopened"
    source_kind = "service"
    reason: Name | None = None


PAYLOADS = (TicketOpened, TicketFirstResponded, TicketEscalated, TicketResolved, TicketReopened)
