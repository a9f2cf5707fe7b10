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

The co-occurrence of every customer's products is what costs: one customer's recommendations read
the pairs the warehouse keeps (``product_pairs``, ``pairs_sql`` over ``touched_sql``, recomputed
every minute: ``cdp.warehouse.views.product_pairs``) and only that customer's own products, read
now; the answer is the full scan's as of the pairs' last refresh (tests/integration/test_recommendations.py).
The offline evaluation scores every customer against pairs computed on the spot, with the same
scoring (``_scored``).

Every value a caller gives (the customer, N) is a server-side query parameter; only the database
name and this module's constants are written into the SQL.

``held_out`` is the offline evaluation's view of the data (benchmarks/recommendations.py): each
customer's last purchase day is held out, with everything from that day on, and the score computed
on what came before.
"""

from typing import Any

from cdp.queries import current_customers_sql
from cdp.warehouse import Warehouse
from cdp.warehouse.views import customer_products, product_pairs
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


def pairs_sql(touched: str) -> str:
    """Every ordered pair of products that a customer of ``touched`` touched both of (a product with
    itself included): ``product, other, together`` (the customers who touched both; with itself,
    those who touched it), ``product_reach`` and ``other_reach`` (the customers
    who touched each), ``other_buyers`` (who bought ``other``) and ``other_name`` (as last seen).
    ``touched`` is named once and read three times: give a CTE (``_MATERIALIZED``)."""
    reach = f"(SELECT product, count() AS n, countIf(bought) AS buyers, argMax(name, at) AS name FROM {touched} GROUP BY product)"
    return (
        "SELECT g.product AS product, g.other AS other, g.together AS together, rq.n AS product_reach, rp.n AS other_reach, "
        "rp.buyers AS other_buyers, rp.name AS other_name "
        f"FROM (SELECT a.product AS product, b.product AS other, count() AS together FROM {touched} AS a INNER JOIN {touched} AS b "
        "ON a.customer_id = b.customer_id GROUP BY product, other) AS g "
        f"INNER JOIN {reach} AS rq ON rq.product = g.product INNER JOIN {reach} AS rp ON rp.product = g.other"
    )


_MATERIALIZED = "SETTINGS enable_materialized_cte = 1"  # a MATERIALIZED CTE is computed once, not once per reference (4x faster on the demo)


def product_pairs_sql(database: str) -> str:
    """What the warehouse keeps in ``product_pairs`` (``cdp.warehouse.views.product_pairs``): the
    pairs of every customer's products now."""
    return f"WITH t AS MATERIALIZED {touched_sql(database)} {pairs_sql('t')} {_MATERIALIZED}"


def _scored(ctes: str) -> str:
    """The top ``{n:UInt32}`` products of each customer of ``people``, best first: ``customer_id,
    product, name, score, because, buyers``, given the CTEs ``mine`` (``customer_id, q, bought``:
    each product a customer touched), ``pairs`` (``pairs_sql``'s columns) and ``people``
    (``customer_id``). Co-occurring products come first (``because``: the customer's product that
    contributed most), then the most bought (``because`` = ``popular``, score 0); never one the
    customer bought."""
    return (
        f"WITH {ctes}, "
        "reach AS (SELECT other AS product, other_buyers AS buyers, other_name AS name FROM pairs WHERE product = other), "
        "parts AS (SELECT m.customer_id AS customer_id, pr.other AS product, pr.product AS q, pr.together / sqrt(pr.product_reach * pr.other_reach) AS part "
        "FROM mine AS m INNER JOIN pairs AS pr ON pr.product = m.q WHERE pr.other != pr.product), "
        "candidates AS (SELECT customer_id, product, sum(part) AS score, argMax(q, (part, q)) AS because FROM parts GROUP BY customer_id, product "
        f"UNION ALL SELECT p.customer_id AS customer_id, r.product AS product, 0 AS score, '{POPULAR}' AS because "
        "FROM people AS p CROSS JOIN (SELECT product FROM reach WHERE buyers > 0) AS r) "
        "SELECT c.customer_id AS customer_id, c.product AS product, any(r.name) AS name, round(max(c.score), 6) AS score, "
        "argMax(c.because, c.score) AS because, any(r.buyers) AS buyers "
        "FROM candidates AS c INNER JOIN reach AS r ON r.product = c.product "
        "WHERE (c.customer_id, c.product) NOT IN (SELECT customer_id, q FROM mine WHERE bought) "
        "GROUP BY c.customer_id, c.product ORDER BY customer_id, score DESC, buyers DESC, product LIMIT {n:UInt32} BY customer_id"
    )


def scored_sql(touched: str) -> str:
    """Every customer's top ``{n:UInt32}`` in ``touched`` (``_scored``'s columns), the pairs computed
    from it on the way: the offline evaluation's full scan."""
    return _scored(
        f"t AS MATERIALIZED {touched}, pairs AS MATERIALIZED ({pairs_sql('t')}), "
        "mine AS (SELECT customer_id, product AS q, bought FROM t), people AS (SELECT DISTINCT customer_id FROM mine)"
    ) + f" {_MATERIALIZED}"


def one_customer_sql(database: str) -> str:
    """``{customer:String}``'s top ``{n:UInt32}``: their own products read now by the rollup's key,
    for ``{group:Array(String)}`` (the customer and every id merged into it, ``Customers.merged_into``:
    the ids ``touched_sql`` maps to it, but for chains longer than ``cdp.queries.MERGE_DEPTH``, which
    only ``Customers`` follows to their end), scored against the pairs the warehouse keeps
    (``product_pairs``, as of its last refresh)."""
    mine = (
        f"SELECT {{customer:String}} AS customer_id, q, bought FROM (SELECT product AS q, max(bought) AS bought FROM `{database}`.`{customer_products.ROLLUP.name}` "
        "WHERE product != '' AND customer_id IN {group:Array(String)} GROUP BY q)"
    )
    return _scored(
        f"mine AS MATERIALIZED ({mine}), pairs AS MATERIALIZED (SELECT * FROM `{database}`.`{product_pairs.NAME}`), people AS (SELECT {{customer:String}} AS customer_id)"
    ) + f" {_MATERIALIZED}"


def popular_sql(touched: str) -> str:
    """Products by how many customers bought them, most first: ``product, name, buyers``."""
    return f"SELECT product, argMax(name, at) AS name, countIf(bought) AS buyers FROM {touched} GROUP BY product HAVING buyers > 0 ORDER BY buyers DESC, product"


def params(n: int, customer: str | None = None, group: list[str] | None = None) -> dict[str, Any]:
    """The queries' parameters; ``customer`` and its ``group`` for ``one_customer_sql``."""
    found: dict[str, Any] = {"event_types": list(EVENT_TYPES), "purchases": sorted(PURCHASE_EVENT_TYPES), "n": n}
    return found if customer is None else {**found, "customer": customer, "group": group}


def for_customer(warehouse: Warehouse, customer: str, n: int, group: list[str]) -> list[dict[str, Any]]:
    """``customer``'s top ``n`` in one query, ``group`` being the customer and the customers merged
    into it (``Customers.merged_into``): ``product, name, score, because, buyers``."""
    rows = warehouse.query(one_customer_sql(warehouse.database), params(n, customer, group))
    return [{k: v for k, v in row.items() if k != "customer_id"} for row in rows]
