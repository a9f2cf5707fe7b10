"""One customer's consent rows: decisions and suppressions in force (written when they change) and the
history intervals (written as a diff against what was written before)."""

from collections.abc import Callable

from projections.consent import Interval, State, current, diff_intervals, suppressions
from projections.tables import consent_changes, customer_consent
from projections.tables import suppressions as suppression_table
from projections.tables.table import Table, blank_row

Emit = Callable[[Table, str, dict], None]  # (table, key, row): writes the row if it changed since the last one under key


def write(state: State, customer: str, version: int, emit: Emit, rows: dict[str, list[dict]]) -> None:
    for purpose, decision in current(state).items():
        emit(customer_consent.TABLE, f"{customer}/{purpose}", customer_consent.row(customer, decision))
    for (identifier, purpose), fact in suppressions(state).items():
        emit(suppression_table.TABLE, f"{customer}/{identifier}/{purpose}", suppression_table.row(customer, fact))
    retracted, written = diff_intervals(state)
    changes = [consent_changes.row(customer, i, version, deleted=True) for i in retracted] + [consent_changes.row(customer, i, version) for i in written]
    _add(rows, consent_changes.TABLE, changes)


def retract(state: State, customer: str, version: int, rows: dict[str, list[dict]]) -> None:
    """Withdraws every consent row of a customer merged into another (the survivor writes the merged ones)."""
    gone = {"customer_id": customer, "version": version, "is_deleted": 1}
    _add(rows, customer_consent.TABLE, [blank_row(customer_consent.TABLE) | gone | {"purpose": p} for p in current(state)])
    _add(rows, suppression_table.TABLE, [blank_row(suppression_table.TABLE) | gone | {"identifier": i, "purpose": p} for i, p in suppressions(state)])
    _add(rows, consent_changes.TABLE, [consent_changes.row(customer, i, version, deleted=True) for i in map(Interval._make, state["intervals"])])


def _add(rows: dict[str, list[dict]], table: Table, new: list[dict]) -> None:
    if new:  # a customer without consent facts adds no (empty) table to the batch's output
        rows.setdefault(table.name, []).extend(new)
