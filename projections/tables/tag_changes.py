"""``tag_changes``: every time a customer gained or lost a tag, in event time."""

from projections.tables.profiles import from_ms
from projections.tables.table import Column, Table

TABLE = Table(
    name="tag_changes",
    doc="Every tag gained or lost, with its event time, e.g. who became inactive in October. Read with FINAL: a change later "
    "disproved (a late event, a merge) is retracted.",
    columns=(
        Column("customer_id", "String", "The customer."),
        Column("tag", "LowCardinality(String)", "The tag."),
        Column("at", "DateTime64(3, 'UTC')", "When it changed (event time)."),
        Column("change", "LowCardinality(String)", "added or removed."),
        Column("version", "UInt64", "Event-log position at which this was computed."),
        Column("is_deleted", "UInt8", "1 when the change was retracted."),
    ),
    engine="ReplacingMergeTree(version, is_deleted)",
    order_by="(customer_id, tag, at)",
)


def row(customer_id: str, entry: list, version: int, deleted: bool = False) -> dict:
    at, tag, added = entry
    return {"customer_id": customer_id, "tag": tag, "at": from_ms(at), "change": "added" if added else "removed", "version": version, "is_deleted": int(deleted)}
