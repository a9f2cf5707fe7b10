"""``product_pairs``: how many customers touched each two products, recomputed by the warehouse
every ``REFRESH_MINUTES`` (a refreshable materialized view), for recommendations (``cdp.recommendations``).

A customer's recommendations score the products that co-occur with theirs over every customer
(merges followed). Computing that per request read every customer's products, ~10x the rest of
the 360° view on the 1M-event demo (docs/console.md); the pairs change slowly and are few (a
product with each product some customer touched with it), so the warehouse keeps them and a
request reads only its customer's products and these rows. The price is staleness: scores and
the most-bought fill are as of the last refresh (at most ``REFRESH_MINUTES`` old), while what the
customer touched and bought is read as it is now. Each refresh replaces the table's rows at once
(the server writes a new table and exchanges it), so a read never sees half a refresh.
"""

from cdp.warehouse import Warehouse
from cdp.warehouse.statements import quote_string
from projections.tables import Column

NAME = "product_pairs"
REFRESH_MINUTES = 1
COLUMNS = (
    Column("product", "String", "A product id."),
    Column("other", "String", "A product touched (bought or viewed) by some customer who touched product; product itself included."),
    Column("together", "UInt64", "Customers who touched both (other = product: who touched it)."),
    Column("product_reach", "UInt64", "Customers who touched product."),
    Column("other_reach", "UInt64", "Customers who touched other."),
    Column("other_buyers", "UInt64", "Customers who bought other."),
    Column("other_name", "String", "The name of other as last seen."),
)
DOC = (
    "Customers who bought or viewed both of two products, from customer_products with merges followed; recomputed by the refreshable "
    f"view product_pairs_refresh every {REFRESH_MINUTES} min, so up to that old. One row per ordered pair; a product with itself gives "
    "its reach. What recommendations score against."
)


def create_sql(database: str, select: str) -> list[str]:
    """The table, and the view that fills it with ``select`` (``cdp.recommendations.product_pairs_sql``) now and every ``REFRESH_MINUTES``."""
    table = f"`{database}`.`{NAME}`"
    columns = ",\n".join(f"    `{c.name}` {c.type} COMMENT {quote_string(c.doc)}" for c in COLUMNS)
    return [
        f"CREATE TABLE IF NOT EXISTS {table}\n(\n{columns}\n)\nENGINE = MergeTree\nORDER BY (product, other)\nCOMMENT {quote_string(DOC)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{NAME}_refresh` REFRESH EVERY {REFRESH_MINUTES} MINUTE TO {table}\nAS {select}",
    ]


def refresh(warehouse: Warehouse) -> None:
    """Recomputes the pairs now and returns when they are written: for a test, or a benchmark that
    has just loaded its events, which cannot wait for the next refresh."""
    view = f"`{warehouse.database}`.`{NAME}_refresh`"
    warehouse.execute(f"SYSTEM REFRESH VIEW {view}")
    warehouse.execute(f"SYSTEM WAIT VIEW {view}")
