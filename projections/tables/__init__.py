"""The warehouse tables the projections write, one module per table."""

from projections.tables import (
    churn_risk,
    customer_loyalty,
    customer_merges,
    customer_satisfaction,
    customer_service,
    customer_tags,
    customer_traits,
    customer_value,
    events,
    identities,
    identity_refusals,
    lifecycle_transitions,
    profiles,
    survey_answers,
    tag_changes,
    tickets,
)
from projections.tables.table import Column, Table

TABLES: tuple[Table, ...] = (events.TABLE, profiles.TABLE, identities.TABLE, customer_merges.TABLE, lifecycle_transitions.TABLE)

# added by warehouse migration 2
PROJECTION_TABLES: tuple[Table, ...] = (
    identity_refusals.TABLE,
    customer_traits.TABLE,
    customer_tags.TABLE,
    tag_changes.TABLE,
    customer_value.TABLE,
    customer_satisfaction.TABLE,
    survey_answers.TABLE,
    tickets.TABLE,
    customer_service.TABLE,
    churn_risk.TABLE,
    customer_loyalty.TABLE,
)

__all__ = ["PROJECTION_TABLES", "TABLES", "Column", "Table"]
