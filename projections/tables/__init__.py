"""The warehouse tables the projections write, one module per table."""

from projections.tables import customer_merges, events, identities, lifecycle_transitions, profiles
from projections.tables.table import Column, Table

TABLES: tuple[Table, ...] = (events.TABLE, profiles.TABLE, identities.TABLE, customer_merges.TABLE, lifecycle_transitions.TABLE)

__all__ = ["TABLES", "Column", "Table"]
