"""``<table>_current`` views: a versioned table's current rows, without FINAL or bookkeeping columns.

BI tools that build their own SQL (Metabase's query builder, Superset's charts) do not add FINAL;
these views do it for them and hide ``version`` and ``is_deleted``.
"""

from cdp.warehouse.statements import quote_string
from projections.tables import Table

BOOKKEEPING = ("version", "is_deleted")


def name(table: Table) -> str:
    return f"{table.name}_current"


def create_sql(database: str, table: Table) -> str:
    columns = ", ".join(f"`{c}`" for c in table.column_names if c not in BOOKKEEPING)
    doc = f"Current rows of {table.name}: FINAL applied, retracted rows and bookkeeping columns dropped. {table.doc.split(' Read with FINAL')[0]}"
    return (
        f"CREATE VIEW IF NOT EXISTS `{database}`.`{name(table)}`\nAS SELECT {columns}\n"
        f"FROM `{database}`.`{table.name}` FINAL\nCOMMENT {quote_string(doc)}"
    )

