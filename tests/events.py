"""Builders of envelope dicts for hand-made scenarios."""

from typing import Any

_KIND = {
    "page_viewed": ("website", "web"),
    "identified": ("website", "web"),
    "product_viewed": ("website", "web"),
    "order_placed": ("sales", "shop"),
    "store_purchase_made": ("sales", "pos"),
    "order_refunded": ("sales", "shop"),
    "points_redeemed": ("sales", "loyalty"),
    "message_sent": ("social", "wechat"),
    "ticket_opened": ("service", "helpdesk"),
    "ticket_resolved": ("service", "helpdesk"),
    "ticket_first_responded": ("service", "helpdesk"),
    "ticket_escalated": ("service", "helpdesk"),
    "nps_answered": ("survey", "surveys"),
    "csat_answered": ("survey", "surveys"),
    "csi_answered": ("survey", "surveys"),
    "feedback_given": ("survey", "surveys"),
    "event_tracked": ("website", "web"),
    "consent_given": ("website", "web"),
    "consent_withdrawn": ("website", "web"),
    "consent_preferences_updated": ("website", "web"),
    "identifier_suppressed": ("website", "esp"),
    "identifier_unsuppressed": ("website", "operator"),
    "customer_erased": ("service", "privacy"),
}
_counter = iter(range(1, 10**9))


def event(event_type: str, at: str, *, message_id: str | None = None, traits: dict | None = None, properties: dict | None = None, **identifiers: Any) -> dict:
    """One envelope: ``event("order_placed", "2025-01-10", email="a@example.com", properties={...})``."""
    kind, source = _KIND[event_type]
    if "wechat" in identifiers:
        identifiers["social"] = [{"platform": "wechat", "handle": identifiers.pop("wechat")}]
    return {
        "message_id": message_id or f"m{next(_counter)}",
        "event_type": event_type,
        "source_kind": kind,
        "source_name": source,
        "occurred_at": at if "T" in at else at + "T12:00:00Z",
        "identifiers": identifiers,
        "traits": traits or {},
        "properties": properties or {},
    }


def order(at: str, amount: float, order_id: str, **identifiers: Any) -> dict:
    return event("order_placed", at, properties={"order_id": order_id, "amount": amount, "currency": "CNY"}, **identifiers)
