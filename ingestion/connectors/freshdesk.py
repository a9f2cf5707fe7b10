"""Freshdesk's ticket export (Tickets → Export, CSV), with Freshdesk's column names.

Each row gives up to three touchpoints: opened (Created time), first responded (Initial
response time) and resolved (Resolved time). Freshdesk exports local times without a zone;
they are read as UTC, so export with the helpdesk's time zone set to UTC.
"""

from collections.abc import Iterator
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingestion.sdk import Connector, Touch

_PRIORITY = {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent"}


class FreshdeskTicketRow(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    ticket_id: str = Field(alias="Ticket ID", min_length=1)
    subject: str = Field("", alias="Subject")
    priority: str = Field("Medium", alias="Priority")
    source: str = Field("Email", alias="Source")
    type: str | None = Field(None, alias="Type")
    agent: str | None = Field(None, alias="Agent")
    email: str | None = Field(None, alias="Email")
    contact_id: str | None = Field(None, alias="Contact ID")
    created: datetime = Field(alias="Created time")
    first_response: datetime | None = Field(None, alias="Initial response time")
    resolved: datetime | None = Field(None, alias="Resolved time")

    @field_validator("type", "agent", "email", "contact_id", "first_response", "resolved", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value


class FreshdeskTicketExport(Connector):
    name = "freshdesk-tickets"
    tool = "Freshdesk ticket export (CSV)"
    source_kind = "service"
    Record = FreshdeskTicketRow
    formats = ("csv",)
    examples = (
        {"Ticket ID": "1042", "Subject": "Refund not received", "Status": "Resolved", "Priority": "High", "Source": "Phone", "Type": "Refund",
         "Agent": "Wang Fang", "Group": "Billing", "Created time": "2025-11-18 08:12:40", "Initial response time": "2025-11-18 09:02:11",
         "Resolved time": "2025-11-19 17:45:00", "Full name": "Li Na", "Email": "li.na@example.com", "Contact ID": "77001"},
        {"Ticket ID": "1043", "Subject": "App crashes", "Status": "Open", "Priority": "Urgent", "Source": "Chat", "Type": "",
         "Agent": "", "Group": "", "Created time": "2025-11-20 10:00:00", "Initial response time": "", "Resolved time": "",
         "Full name": "Zhang Wei", "Email": "", "Contact ID": "77002"},
    )  # fmt: skip

    def map(self, row: FreshdeskTicketRow) -> Iterator[Touch]:
        who = {"email": row.email, "user_id": None if row.email else f"freshdesk:{row.contact_id}" if row.contact_id else None}
        ticket = {"ticket_id": row.ticket_id}
        yield Touch(f"{row.ticket_id}:opened", "ticket_opened", row.created, who, {
            **ticket,
            "channel": row.source.lower(),
            "category": row.type,
            "priority": _PRIORITY.get(row.priority.lower(), "normal"),
            "is_complaint": (row.type or "").lower() in ("complaint", "refund"),
            "subject": row.subject,
        })  # fmt: skip
        if row.first_response:
            yield Touch(f"{row.ticket_id}:first-response", "ticket_first_responded", row.first_response, who, {**ticket, "agent": row.agent})
        if row.resolved:
            yield Touch(f"{row.ticket_id}:resolved", "ticket_resolved", row.resolved, who, ticket)
