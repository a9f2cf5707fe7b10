"""Recommendations: products bought or viewed together, computed in the warehouse from the events.

A customer *touched* a product when they bought it (an item of ``order_placed`` or
``store_purchase_made``) or looked at it (``product_viewed``, ``product_added_to_cart``), as the
``customer_products`` rollup keeps them, counted for the customer they belong to now (merges
followed, ``cdp.queries``). Two products co-occur for every customer who touched both; a
candidate's score for a customer is, over each product the customer touched, the co-occurrence
normalised by both products' reach (cosine: ``together / sqrt(touched q * touched p)``, so a
product everybody touches does not win by being everywhere). What the customer already bought is
never recommended; when co-occurrence gives fewer than N, the most bought products fill the list
(``because`` says ``popular``), in the same query. Ties go to the product id, so the answer is the
same every time.

Every value a caller gives (the customer, N) is a server-side query parameter; only the database
name and this module's constants are written into the SQL.

``held_out`` is the offline evaluation's view of the data (benchmarks/recommendations.py): each
customer's last purchase day is held out, with everything from that day on, and the score computed
on what came before.
"""

from typing import Any

from cdp.queries import current_customers_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.views import customer_products
from cdp.warehouse.views.customer_products import VIEW_EVENT_TYPES
from projections.tables import events as events_table
from schemas.payloads.sales import PURCHASE_EVENT_TYPES

EVENT_TYPES = (*sorted(PURCHASE_EVENT_TYPES), *VIEW_EVENT_TYPES)
POPULAR = "popular"


def _events(database: str) -> str:
    """The offline evaluation's rows, one per (event, product): ``customer_id`` (as written),
    ``event_at``, ``is_purchase``, ``product``, ``item_name``. Read without FINAL: an event written twice (until merged) touches the
    same product at the same time, which every use below counts once."""
    events = f"(SELECT customer_id, occurred_at, event_type, properties FROM `{database}`.`{events_table.TABLE.name}` WHERE event_type IN {{event_types:Array(String)}})"
    return (
        "(SELECT customer_id, event_at, is_purchase, JSONExtractString(item, 'product_id') AS product, JSONExtractString(item, 'name') AS item_name FROM "
        f"(SELECT customer_id, occurred_at AS event_at, event_type IN {{purchases:Array(String)}} AS is_purchase, "
        f"arrayJoin(if(is_purchase, JSONExtractArrayRaw(properties, 'items'), [properties])) AS item FROM {events}) WHERE product != '')"
    )


def _touched(rows: str) -> str:
    """``rows`` (``_events``' columns) per (customer, product): ``bought``, ``name`` as last seen, ``at`` last touched."""
    return f"(SELECT customer_id, product, max(is_purchase) AS bought, argMax(item_name, event_at) AS name, max(event_at) AS at FROM {rows} GROUP BY customer_id, product)"


def touched_sql(database: str) -> str:
    """Every (customer, product) touched, for the customer it belongs to now, from the
    ``customer_products`` rollup (``cdp.warehouse.views.customer_products``: kept as events arrive,
    so no event is parsed here): merges are followed once per customer id and product."""
    rows = f"(SELECT customer_id, product, bought AS is_purchase, name AS item_name, at AS event_at FROM `{database}`.`{customer_products.ROLLUP.name}` WHERE product != '')"
    return _touched(current_customers_sql(database, rows, "product, is_purchase, item_name, event_at"))


def held_out_sql(database: str) -> tuple[str, str]:
    """``(history, held out)`` for the offline evaluation. Of each customer who bought on two days or
    more, the last purchase day is held out: the history keeps what they touched before it (and
    everything of the other customers); held out are the products bought that day that they had not
    bought before."""
    rows = current_customers_sql(database, _events(database), "event_at, is_purchase, product, item_name")
    last = f"(SELECT customer_id, max(toDate(event_at)) AS day FROM {rows} WHERE is_purchase GROUP BY customer_id HAVING uniqExact(toDate(event_at)) >= 2)"
    before = f"(SELECT r.* FROM {rows} AS r LEFT JOIN {last} AS l ON l.customer_id = r.customer_id WHERE l.customer_id = '' OR toDate(r.event_at) < l.day)"
    history = _touched(before)
    held = (
        f"(SELECT DISTINCT r.customer_id AS customer_id, r.product AS product FROM {rows} AS r INNER JOIN {last} AS l ON l.customer_id = r.customer_id "
        f"WHERE r.is_purchase AND toDate(r.event_at) = l.day AND (r.customer_id, r.product) NOT IN (SELECT customer_id, product FROM {history} WHERE bought))"
    )
    return history, held


def scored_sql(touched: str, one_customer: bool) -> str:
    """Each customer's top ``{n:UInt32}`` products (only ``{customer:String}``'s when ``one_customer``),
    best first: ``customer_id, product, name, score, because, buyers``. Co-occurring products come
    first (``because``: the customer's product that contributed most), then the most bought
    (``because`` = ``popular``, score 0); never one the customer bought."""
    mine = "SELECT customer_id, product AS q FROM t" + (" WHERE customer_id = {customer:String}" if one_customer else "")
    people = "SELECT {customer:String} AS customer_id" if one_customer else "SELECT DISTINCT customer_id FROM mine"
    return (
        f"WITH t AS MATERIALIZED {touched}, "
        "reach AS (SELECT product, count() AS n, countIf(bought) AS buyers, argMax(name, at) AS name FROM t GROUP BY product), "
        f"mine AS ({mine}), people AS ({people}), "
        "pairs AS (SELECT a.product AS q, b.product AS p, count() AS together FROM t AS a INNER JOIN t AS b ON a.customer_id = b.customer_id "
        "WHERE a.product != b.product AND a.product IN (SELECT q FROM mine) GROUP BY q, p), "
        "parts AS (SELECT m.customer_id AS customer_id, pr.p AS product, pr.q AS q, pr.together / sqrt(rq.n * rp.n) AS part "
        "FROM mine AS m INNER JOIN pairs AS pr ON pr.q = m.q INNER JOIN reach AS rq ON rq.product = pr.q INNER JOIN reach AS rp ON rp.product = pr.p), "
        "candidates AS (SELECT customer_id, product, sum(part) AS score, argMax(q, (part, q)) AS because FROM parts GROUP BY customer_id, product "
        f"UNION ALL SELECT p.customer_id AS customer_id, r.product AS product, 0 AS score, '{POPULAR}' AS because "
        "FROM people AS p CROSS JOIN (SELECT product FROM reach WHERE buyers > 0) AS r) "
        "SELECT c.customer_id AS customer_id, c.product AS product, any(r.name) AS name, round(max(c.score), 6) AS score, "
        "argMax(c.because, c.score) AS because, any(r.buyers) AS buyers "
        "FROM candidates AS c INNER JOIN reach AS r ON r.product = c.product "
        "WHERE (c.customer_id, c.product) NOT IN (SELECT customer_id, product FROM t WHERE bought) "
        "GROUP BY c.customer_id, c.product ORDER BY customer_id, score DESC, buyers DESC, product LIMIT {n:UInt32} BY customer_id "
        "SETTINGS enable_materialized_cte = 1"  # t is computed once, not once per reference (4x faster on the demo)
    )


def popular_sql(touched: str) -> str:
    """Products by how many customers bought them, most first: ``product, name, buyers``."""
    return f"SELECT product, argMax(name, at) AS name, countIf(bought) AS buyers FROM {touched} GROUP BY product HAVING buyers > 0 ORDER BY buyers DESC, product"


def params(n: int, customer: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"event_types": list(EVENT_TYPES), "purchases": sorted(PURCHASE_EVENT_TYPES), "n": n}
    if customer is not None:
        found["customer"] = customer
    return found


def for_customer(warehouse: Warehouse, customer: str, n: int) -> list[dict[str, Any]]:
    """``customer``'s top ``n``, in one query: ``product, name, score, because, buyers``."""
    rows = warehouse.query(scored_sql(touched_sql(warehouse.database), True), params(n, customer))
    return [{k: v for k, v in row.items() if k != "customer_id"} for row in rows]
