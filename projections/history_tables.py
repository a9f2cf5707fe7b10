"""A customer's history tables (lifecycle transitions, tag changes, consent intervals) as its state
holds them, and the rows that make the warehouse hold exactly that.

A runner writes history rows as differences against what the customer's state says was written
before. When a batch's rows reach the warehouse and its state is never saved (a scale-out worker
killed in between), the batch's second processing starts from the older state and may compute
other history (other batch boundaries give other "as of" times); ``rewrite`` then withdraws what
the warehouse holds beyond the state and writes the state's history again.
"""

from collections.abc import Callable
from dataclasses import dataclass

from projections.consent import Interval, interval_key
from projections.profile import Profile, churn_changes
from projections.tables import churn_level_changes, consent_changes, lifecycle_transitions, tag_changes
from projections.tables.profiles import from_ms
from projections.tables.table import Table, blank_row


@dataclass(frozen=True)
class History:
    table: Table
    entries: Callable[[Profile], list[list]]  # what the state holds as written
    key: Callable[[list], tuple]  # an entry's key: the table's ORDER BY columns after customer_id, times in ms
    row: Callable[[str, list, int], dict]  # (customer, entry, version) → its row


HISTORIES: tuple[History, ...] = (
    History(lifecycle_transitions.TABLE, lambda p: p["lifecycle"]["transitions"], lifecycle_transitions.key, lifecycle_transitions.row),
    History(tag_changes.TABLE, lambda p: p["derived"]["tag_history"], lambda e: (e[1], e[0]), tag_changes.row),
    History(consent_changes.TABLE, lambda p: p["consent"]["intervals"], lambda i: interval_key(Interval._make(i)), lambda c, i, v: consent_changes.row(c, Interval._make(i), v)),
    History(churn_level_changes.TABLE, churn_changes, churn_level_changes.key, churn_level_changes.row),
)

StoredKeys = dict[str, set[tuple]]  # table name → the keys of a customer's live rows in the warehouse


def key_columns(table: Table) -> list[tuple[str, bool]]:
    """``(name, is a time)`` of the columns of a history table's key after ``customer_id`` (its ORDER
    BY, a plain column list); a key holds times in ms."""
    types = {c.name: c.type for c in table.columns}
    names = [name.strip(" `") for name in table.order_by.strip("()").split(",")][1:]
    return [(name, types[name].startswith("DateTime64")) for name in names]


def rewrite(customer: str, profile: Profile | None, stored: StoredKeys, version: int, rows: dict[str, list[dict]]) -> None:
    """Every history row ``profile`` holds, at ``version``, and a tombstone for each key in ``stored``
    that it does not hold (all of them for a customer merged away: ``profile`` None)."""
    for history in HISTORIES:
        entries = history.entries(profile) if profile is not None else []
        held = {history.key(e) for e in entries}
        table_rows = rows[history.table.name]
        table_rows.extend(history.row(customer, e, version) for e in entries)
        table_rows.extend(_tombstone(history.table, customer, key, version) for key in stored.get(history.table.name, ()) if key not in held)


def _tombstone(table: Table, customer: str, key: tuple, version: int) -> dict:
    values = {name: from_ms(v) if is_time else v for (name, is_time), v in zip(key_columns(table), key, strict=True)}
    return blank_row(table) | values | {"customer_id": customer, "version": version, "is_deleted": 1}
