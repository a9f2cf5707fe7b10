"""The warehouse tables the projections write, one module per table."""

from projections.tables import (
    churn_level_changes,
    churn_risk,
    consent_changes,
    customer_consent,
    customer_predictions,
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
    suppressions,
    survey_answers,
    tag_changes,
    tickets,
    value_models,
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

# added by warehouse migration 20
CONSENT_TABLES: tuple[Table, ...] = (customer_consent.TABLE, consent_changes.TABLE, suppressions.TABLE)

# added by warehouse migration 25; written in batch by `cdp value fit`, not by the projections
PREDICTION_TABLES: tuple[Table, ...] = (customer_predictions.TABLE, value_models.TABLE)

# added by warehouse migration 27
CHURN_HISTORY_TABLES: tuple[Table, ...] = (churn_level_changes.TABLE,)

WAREHOUSE_TABLES: tuple[Table, ...] = (*TABLES, *PROJECTION_TABLES, *CONSENT_TABLES, *CHURN_HISTORY_TABLES)

__all__ = ["BY_PROJECTION", "CHURN_HISTORY_TABLES", "CONSENT_TABLES", "PREDICTION_TABLES", "PROJECTION_TABLES", "TABLES", "WAREHOUSE_TABLES", "Column", "Table"]

# what `cdp projections rebuild NAME` rewrites
BY_PROJECTION: dict[str, tuple[Table, ...]] = {
    "identity": (identities.TABLE, customer_merges.TABLE, identity_refusals.TABLE),
    "profile": (events.TABLE, profiles.TABLE, customer_traits.TABLE),
    "lifecycle": (lifecycle_transitions.TABLE,),
    "tags": (customer_tags.TABLE, tag_changes.TABLE),
    "value": (customer_value.TABLE,),
    "satisfaction": (customer_satisfaction.TABLE, survey_answers.TABLE),
    "service": (tickets.TABLE, customer_service.TABLE),
    "churn": (churn_risk.TABLE, churn_level_changes.TABLE),
    "loyalty": (customer_loyalty.TABLE,),
    "consent": CONSENT_TABLES,
}
