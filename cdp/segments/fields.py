"""The fields a segment condition may name: field → table, column and kind. A new field is one line.

Kinds decide the operators allowed and the parameter type: ``number`` (Float64), ``text``
(String), ``time`` (DateTime64), ``list`` (Array(String)).
"""

from dataclasses import dataclass
from typing import Literal

from projections.tables import churn_risk, customer_loyalty, customer_satisfaction, customer_service, customer_tags, customer_predictions, customer_traits, customer_value, profiles
from projections.tables.table import Table
from schemas import SOURCE_KINDS

Kind = Literal["number", "text", "time", "list"]


@dataclass(frozen=True)
class Field:
    table: Table
    column: str
    kind: Kind


FIELDS: dict[str, Field] = {
    # the unified profile
    "lifecycle_stage": Field(profiles.TABLE, "lifecycle_stage", "text"),
    "lifecycle_since": Field(profiles.TABLE, "lifecycle_since", "time"),
    "orders": Field(profiles.TABLE, "orders", "number"),
    "revenue": Field(profiles.TABLE, "revenue", "number"),
    "refunds": Field(profiles.TABLE, "refunds", "number"),
    "first_seen": Field(profiles.TABLE, "first_seen", "time"),
    "last_seen": Field(profiles.TABLE, "last_seen", "time"),
    "first_purchase_at": Field(profiles.TABLE, "first_purchase_at", "time"),
    "last_purchase_at": Field(profiles.TABLE, "last_purchase_at", "time"),
    "last_nps": Field(profiles.TABLE, "last_nps", "number"),
    "channels": Field(profiles.TABLE, "channels", "list"),
    "sources": Field(profiles.TABLE, "sources", "list"),
    "account_ids": Field(profiles.TABLE, "account_ids", "list"),
    "events_total": Field(profiles.TABLE, "events_total", "number"),
    **{f"events_{kind}": Field(profiles.TABLE, f"events_{kind}", "number") for kind in SOURCE_KINDS},
    # computed traits and tags
    "preferred_channel": Field(customer_traits.TABLE, "preferred_channel", "text"),
    "tags": Field(customer_tags.TABLE, "tags", "list"),
    # value
    "tier": Field(customer_value.TABLE, "tier", "text"),
    "clv": Field(customer_value.TABLE, "clv", "number"),
    "rfm": Field(customer_value.TABLE, "rfm", "text"),
    "recency_score": Field(customer_value.TABLE, "recency_score", "number"),
    "frequency_score": Field(customer_value.TABLE, "frequency_score", "number"),
    "monetary_score": Field(customer_value.TABLE, "monetary_score", "number"),
    "repurchase_count": Field(customer_value.TABLE, "repurchase_count", "number"),
    "net_amount": Field(customer_value.TABLE, "net_amount", "number"),
    "average_order_value": Field(customer_value.TABLE, "average_order_value", "number"),
    "referral_count": Field(customer_value.TABLE, "referral_count", "number"),
    # predicted value (`cdp value fit`; customers without a purchase have no row)
    "p_alive": Field(customer_predictions.TABLE, "p_alive", "number"),
    "expected_purchases": Field(customer_predictions.TABLE, "expected_purchases", "number"),
    "expected_revenue": Field(customer_predictions.TABLE, "expected_revenue", "number"),
    "predicted_clv": Field(customer_predictions.TABLE, "predicted_clv", "number"),
    # satisfaction
    "nps_category": Field(customer_satisfaction.TABLE, "nps_category", "text"),
    "nps": Field(customer_satisfaction.TABLE, "nps", "number"),
    "csat_average": Field(customer_satisfaction.TABLE, "csat_average", "number"),
    "csat_satisfied_pct": Field(customer_satisfaction.TABLE, "csat_satisfied_pct", "number"),
    "csi_average": Field(customer_satisfaction.TABLE, "csi_average", "number"),
    "last_sentiment": Field(customer_satisfaction.TABLE, "last_sentiment", "text"),
    # service
    "tickets": Field(customer_service.TABLE, "tickets", "number"),
    "complaints": Field(customer_service.TABLE, "complaints", "number"),
    "open_tickets": Field(customer_service.TABLE, "open_tickets", "number"),
    "sla_state": Field(customer_service.TABLE, "sla_state", "text"),
    # churn risk and loyalty
    "churn_score": Field(churn_risk.TABLE, "score", "number"),
    "churn_level": Field(churn_risk.TABLE, "level", "text"),
    "loyalty_tier": Field(customer_loyalty.TABLE, "tier", "text"),
    "loyalty_points": Field(customer_loyalty.TABLE, "points", "number"),
    "loyalty_lifetime_points": Field(customer_loyalty.TABLE, "lifetime_points", "number"),
    "loyalty_points_redeemed": Field(customer_loyalty.TABLE, "points_redeemed", "number"),
    "loyalty_overdrawn": Field(customer_loyalty.TABLE, "overdrawn", "number"),
}

OPERATORS: dict[Kind, tuple[str, ...]] = {
    "number": ("=", "!=", "<", "<=", ">", ">=", "between", "is_empty"),
    "text": ("=", "!=", "in", "not_in", "is_empty"),
    "time": ("before", "after", "between", "within_days", "not_within_days", "is_empty"),
    "list": ("contains", "contains_any", "contains_all", "is_empty"),
}
