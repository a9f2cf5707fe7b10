"""What the warehouse holds of some customers' history tables, as ``projections.history_tables``
keys: read by a worker setting right the rows of a batch that reached the warehouse but was never
committed (``cdp.scaleout.state.PartitionState``, unconfirmed writes)."""

from collections.abc import Iterable

from cdp.warehouse import Warehouse
from projections.history_tables import HISTORIES, StoredKeys, key_columns


def stored_history(warehouse: Warehouse, customers: Iterable[str]) -> dict[str, StoredKeys]:
    """customer → history table → the keys of its live rows (every given customer, if with none)."""
    stored: dict[str, StoredKeys] = {customer: {} for customer in customers}
    for history in HISTORIES:
        table, columns = history.table.name, key_columns(history.table)
        selected = ", ".join(f"toUnixTimestamp64Milli(`{name}`) AS `{name}`" if is_time else f"`{name}`" for name, is_time in columns)
        rows = warehouse.query(
            f"SELECT customer_id, {selected} FROM `{warehouse.database}`.`{table}` FINAL WHERE customer_id IN {{ids:Array(String)}} AND is_deleted = 0",
            {"ids": sorted(stored)},
        )
        for row in rows:
            stored[row["customer_id"]].setdefault(table, set()).add(tuple(row[name] for name, _ in columns))
    return stored
