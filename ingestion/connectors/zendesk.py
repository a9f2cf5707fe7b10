"""Zendesk ticket event webhooks (event-subscribed webhooks, ``zendesk_event_version`` 2022-11-06).

Zendesk signs each delivery: ``X-Zendesk-Webhook-Signature`` is
base64(HMAC-SHA256(secret, X-Zendesk-Webhook-Signature-Timestamp + body)).
``ticket.created`` opens a ticket, a status change to solved/closed resolves it, a change from
solved/closed back to open/pending reopens it, a priority raised to urgent escalates it.
Zendesk's payload names the requester by id only, so the customer is ``user_id zendesk:<id>``
unless the ticket carries the requester's ``external_id``.
"""

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ingestion.sdk import SignedConnector, Touch, hmac_digest, same


class TicketDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    requester_id: str
    subject: str | None = None
    priority: str | None = None
    status: str | None = None
    type: str | None = None
    external_id: str | None = None
    via: dict[str, Any] = {}
    tags: list[str] = []


class TicketEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The delivery's event id")
    type: str = Field(pattern=r"^zen:event-type:ticket\.")
    time: datetime
    account_id: int | str
    detail: TicketDetail
    event: dict[str, Any] = {}


_SOLVED = {"SOLVED", "CLOSED"}


class ZendeskTicketEvents(SignedConnector):
    name = "zendesk"
    tool = "Zendesk ticket event webhooks"
    source_kind = "service"
    Record = TicketEvent
    examples = (
        {
            "type": "zen:event-type:ticket.created", "account_id": 12514403, "id": "cbe4028c-7239-495d-b020-f22348516046",
            "time": "2025-11-20T09:00:00Z", "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:35436",
            "detail": {"id": "35436", "requester_id": "8193592318236", "subject": "My order never arrived", "priority": "HIGH", "status": "NEW",
                       "type": "INCIDENT", "via": {"channel": "email"}, "tags": ["complaint", "shipping"], "external_id": None},
            "event": {},
        },
        {
            "type": "zen:event-type:ticket.status_changed", "account_id": 12514403, "id": "0d3c5a51-9f0e-4a4c-8d52-6a7a3e9d4a10",
            "time": "2025-11-21T15:30:00Z", "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:35436",
            "detail": {"id": "35436", "requester_id": "8193592318236", "status": "SOLVED", "priority": "HIGH"},
            "event": {"current": "SOLVED", "previous": "OPEN"},
        },
    )  # fmt: skip

    def map(self, record: TicketEvent) -> Iterator[Touch]:
        ticket = record.detail
        action = record.type.removeprefix("zen:event-type:ticket.")
        event_type, properties = self._what(action, record, ticket)
        if event_type is None:
            return
        identifiers = {"user_id": ticket.external_id or f"zendesk:{ticket.requester_id}"}
        context = {"zendesk": {"account_id": record.account_id, "event_id": record.id, "event_type": record.type}}
        yield Touch(f"{record.id}", event_type, record.time, identifiers, {"ticket_id": ticket.id, **properties}, context=context)

    def _what(self, action: str, record: TicketEvent, ticket: TicketDetail) -> tuple[str | None, dict]:
        current, previous = str(record.event.get("current", "")).upper(), str(record.event.get("previous", "")).upper()
        if action == "created":
            priority = (ticket.priority or "normal").lower()
            return "ticket_opened", {
                "channel": ticket.via.get("channel", "web"),
                "category": (ticket.type or "").lower() or None,
                "priority": priority if priority in ("low", "normal", "high", "urgent") else "normal",
                "is_complaint": "complaint" in ticket.tags,
                "subject": ticket.subject or "",
            }
        if action == "status_changed" and current in _SOLVED and previous not in _SOLVED:
            return "ticket_resolved", {}
        if action == "status_changed" and previous in _SOLVED and current not in _SOLVED:
            return "ticket_reopened", {}
        if action == "priority_changed" and current == "URGENT":
            return "ticket_escalated", {"reason": f"priority {previous.lower() or 'unset'} → urgent"}
        return None, {}  # other ticket events (tags, comments, ...) are not touchpoints

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        timestamp = headers.get("x-zendesk-webhook-signature-timestamp", "")
        expected = base64.b64encode(hmac_digest(secret, timestamp.encode() + body))
        return same(expected, headers.get("x-zendesk-webhook-signature"))

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        timestamp = "2025-11-20T09:00:01Z"
        signature = base64.b64encode(hmac_digest(secret, timestamp.encode() + body)).decode()
        return {"x-zendesk-webhook-signature": signature, "x-zendesk-webhook-signature-timestamp": timestamp}
