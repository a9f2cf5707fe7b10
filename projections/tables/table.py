"""A warehouse table: its columns (documented for BI users), engine and keys, and its DDL.

The DDL is plain ClickHouse SQL that runs unchanged on chDB and on a ClickHouse server 24.8+.
"""

from dataclasses import dataclass

# recent insert tokens a table remembers: a retried insert (same deduplication token) within it is dropped
DEDUPLICATION_WINDOW = 1000


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    engine: str
    order_by: str
    partition_by: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def create_sql(self, database: str) -> str:
        columns = ",\n".join(f"    `{c.name}` {c.type} COMMENT {_quote(c.doc)}" for c in self.columns)
        partition = f"\nPARTITION BY {self.partition_by}" if self.partition_by else ""
        return (
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{self.name}`\n(\n{columns}\n)\n"
            f"ENGINE = {self.engine}{partition}\nORDER BY {self.order_by}\n"
            f"SETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}\nCOMMENT {_quote(self.doc)}"
        )


def blank_row(table: Table) -> dict:
    """Every column at its zero value: the base of a tombstone row."""
    return {c.name: _zero(c.type) for c in table.columns}


def fields_of(result) -> dict:
    """A slotted dataclass's fields as a dict (``dataclasses.asdict`` without its deep copy)."""
    return {name: getattr(result, name) for name in result.__slots__}


def customer_table(name: str, doc: str, columns: tuple[Column, ...], key: tuple[str, ...] = ()) -> Table:
    """A current-state table keyed by customer (and ``key``), versioned by log position; read with FINAL."""
    return Table(
        name=name,
        doc=doc + " Read with FINAL: older versions and customers merged into another are dropped.",
        columns=(
            Column("customer_id", "String", "The customer."),
            *columns,
            Column("version", "UInt64", "Event-log position at which this row was computed; the highest wins."),
            Column("is_deleted", "UInt8", "1 when retracted (the customer was merged into another)."),
        ),
        engine="ReplacingMergeTree(version, is_deleted)",
        order_by="(" + ", ".join(("customer_id", *key)) + ")" if key else "customer_id",
    )


def _zero(column_type: str):
    if column_type.startswith("Nullable"):
        return None
    if column_type.startswith("Array"):
        return []
    if column_type.startswith("Map"):
        return {}
    if column_type.startswith(("UInt", "Int")):
        return 0
    if column_type.startswith("Float"):
        return 0.0
    if column_type.startswith("DateTime"):
        return "1970-01-01 00:00:00"
    return ""


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
