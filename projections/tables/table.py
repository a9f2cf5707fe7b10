"""A warehouse table: its columns (documented for BI users), engine and keys, and its DDL.

The DDL is plain ClickHouse SQL that runs unchanged on chDB and on a ClickHouse server 24.8+.
"""

from dataclasses import dataclass


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
            f"ENGINE = {self.engine}{partition}\nORDER BY {self.order_by}\nCOMMENT {_quote(self.doc)}"
        )


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
