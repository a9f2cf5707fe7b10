"""Recommendations (``cdp.recommendations``) on a hand-worked log, computed in the real warehouse.

Touched products (b: bought, v: viewed): A {P1 b, P2 b} (one order), B {P1 b, P3 b}, C {P2 b,
P3 v}, D {P1 b}, E {P4 v}. Reach: P1 3 customers, P2 2, P3 2, P4 1. Together: P1-P2 1 (A), P1-P3 1
(B), P2-P3 1 (C). Score = sum over the customer's products q of together(q, p) / sqrt(reach q *
reach p):
- D (P1): P2 = 1/sqrt(6) = 0.408248, P3 = 0.408248 (tie: by product id), both because of P1.
- C (P2, P3 viewed): P1 = 1/sqrt(6) + 1/sqrt(6) = 0.816497 (equal parts: the greater product, P3,
  is named), P3 = 1/sqrt(4) = 0.5 because of P2 (viewed, not bought: still recommended); P2 bought.
- A (P1, P2): P3 = 1/sqrt(6) + 1/sqrt(4) = 0.908248, because of P2 (the larger part).
- E (P4, no co-occurrence): the most bought fill in: P1 (3 buyers), P2 (2), P3 (1).
Held out for the evaluation: B buys P2 on a later day; before it B had P1 and P3, so P2 is what
the evaluation hides, and on the history (the log above) B's top product is P2 = 1/sqrt(6) (with
P1, through A) + 1/sqrt(4) (with P3, through C) = 0.908248, because of P3: a hit.

One customer's recommendations read the pairs the warehouse keeps (``product_pairs``, migration 32),
refreshed here by hand once the events are processed; on a log with merge chains and ties they
equal, for every customer, what the full scan they replaced (``FULL_SCAN_BEFORE_MIGRATION_32``)
gives.
"""

import orjson
import pytest
from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.api.server import build_collector
from cdp.customers import Customers
from cdp.platform import Platform
from cdp.recommendations import POPULAR, for_customer, held_out_sql, params, popular_sql, scored_sql, touched_sql
from cdp.services import Caller, Forbidden, operator
from cdp.services.profiles import ProfileService
from cdp.services.recommendations import RecommendationService
from cdp.warehouse.views import product_pairs
from ingestion.jsonl import import_lines
from tests.cli import cdp
from tests.console.test_console_http import sign_in
from tests.events import event


def bought(at: str, order_id: str, email: str, *products: str) -> dict:
    items = [{"product_id": p, "name": f"Product {p[1:]}", "price": 10} for p in products]
    return event("order_placed", at, properties={"order_id": order_id, "amount": 10.0 * len(products), "currency": "CNY", "items": items}, email=email)


def viewed(at: str, email: str, product: str) -> dict:
    return event("product_viewed", at, properties={"product_id": product, "name": f"Product {product[1:]}"}, email=email)


LOG = [
    bought("2025-01-01", "o1", "a@example.com", "P1", "P2"),
    bought("2025-01-02", "o2", "b@example.com", "P1"),
    bought("2025-01-03", "o3", "b@example.com", "P3"),
    bought("2025-01-04", "o4", "c@example.com", "P2"),
    viewed("2025-01-05", "c@example.com", "P3"),
    bought("2025-01-06", "o5", "d@example.com", "P1"),
    viewed("2025-01-07", "e@example.com", "P4"),
]
LATER = [bought("2025-02-01", "o6", "b@example.com", "P2")]


@pytest.fixture
def loaded(platform: Platform) -> Platform:
    import_lines((orjson.dumps(e) for e in LOG), platform, "t")
    platform.runner.run()
    product_pairs.refresh(platform.warehouse)
    return platform


def top(platform: Platform, who: str, n: int = 3) -> list[tuple]:
    return [(r["product"], r["score"], r["because"]) for r in RecommendationService(platform, operator()).for_customer(who, n)]


def test_products_bought_or_viewed_together_worked_by_hand(loaded: Platform):
    assert top(loaded, "d@example.com") == [("P2", 0.408248, "P1"), ("P3", 0.408248, "P1")]
    assert top(loaded, "c@example.com") == [("P1", 0.816497, "P3"), ("P3", 0.5, "P2")]
    assert top(loaded, "a@example.com") == [("P3", 0.908248, "P2")]
    assert top(loaded, "e@example.com") == [("P1", 0.0, "popular"), ("P2", 0.0, "popular"), ("P3", 0.0, "popular")]
    assert top(loaded, "d@example.com", 1) == [("P2", 0.408248, "P1")]
    assert RecommendationService(loaded, operator()).for_customer("d@example.com", 1)[0]["name"] == "Product 2"
    rolled = loaded.warehouse.query("SELECT product, name, bought FROM cdp.customer_products ORDER BY customer_id, product")
    assert len(rolled) == 8 and all(r["name"] == f"Product {r['product'][1:]}" for r in rolled)  # each item's name stays with it
    assert sum(r["bought"] for r in rolled) == 6  # A 2, B 2, C 1, D 1 bought; C's P3 and E's P4 viewed


def test_the_360_view_has_recommendations_and_the_rules_hold(loaded: Platform):
    view = ProfileService(loaded, operator()).profile("c@example.com")
    assert [r["product"] for r in view["recommendations"]] == ["P1", "P3"]
    service = RecommendationService(loaded, operator())
    with pytest.raises(Exception, match="n: expected 1 to 100, got 0"):
        service.for_customer("c@example.com", 0)
    with pytest.raises(Exception, match="no customer has the identifier"):
        service.for_customer("nobody@example.com", 3)
    with pytest.raises(Forbidden):
        RecommendationService(loaded, Caller("key:x", frozenset({"segments:read"}))).for_customer("c@example.com", 3)
    hostile = "x' OR 1=1 --"  # a parameter, never SQL
    with pytest.raises(Exception, match="no customer has the identifier"):
        service.for_customer(hostile, 3)


def test_the_console_360_shows_them_escaped_and_how_old_they_may_be(loaded: Platform):
    hostile = "<script>window.pwned = 1</script>"  # a product name is customer data
    import_lines([orjson.dumps(event("product_viewed", "2025-01-08", properties={"product_id": "P9", "name": hostile}, email="a@example.com"))], loaded, "t")
    loaded.runner.run()
    product_pairs.refresh(loaded.warehouse)
    client = TestClient(create_app(build_collector(loaded), loaded), base_url="http://127.0.0.1")
    sign_in(client, loaded.read_keys.create("console", ["profiles:read"])[1])
    page = client.get("/customer?id=d%40example.com")
    assert page.status_code == 200
    card = page.text[page.text.index('id="recommendations"'):]
    assert hostile not in page.text and "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in card  # P9, with P1 through A
    assert "Product 2" in card and "with P1" in card and "as of the last minute" in card


def test_the_evaluation_holds_out_the_last_purchase_day(loaded: Platform):
    import_lines((orjson.dumps(e) for e in LATER), loaded, "t")
    loaded.runner.run()
    w = loaded.warehouse
    product_pairs.refresh(w)
    history, held = held_out_sql(w.database)
    (held_row,) = w.query(f"SELECT * FROM {held}", params(5))
    assert held_row["product"] == "P2"
    assert RecommendationService(loaded, operator()).for_customer("b@example.com", 3) == []  # now B bought P1-P3; P4, bought by nobody, co-occurs with nothing
    on_history = [r for r in w.query(scored_sql(history), params(5)) if r["customer_id"] == held_row["customer_id"]]
    assert [(r["product"], r["score"], r["because"]) for r in on_history] == [("P2", 0.908248, "P3")]  # B before February: a hit
    assert [r["product"] for r in w.query(popular_sql(history), params(5))] == ["P1", "P2", "P3"]  # B's P2 of February not counted


def test_cdp_recommend(loaded: Platform):
    done = cdp("recommend", "c@example.com", "--n", "2", "--format", "json", data_dir=loaded.settings.data_dir)
    assert done.returncode == 0, done.stderr.decode()
    assert [r["product"] for r in orjson.loads(done.stdout)] == ["P1", "P3"]


# The one-customer query before migration 32, as it shipped: the co-occurrence of every customer's
# products computed for each request. Kept as the oracle the table-backed read must agree with.
FULL_SCAN_BEFORE_MIGRATION_32 = (
    "WITH t AS MATERIALIZED {touched}, "
    "reach AS (SELECT product, count() AS n, countIf(bought) AS buyers, argMax(name, at) AS name FROM t GROUP BY product), "
    "mine AS (SELECT customer_id, product AS q FROM t WHERE customer_id = {{customer:String}}), people AS (SELECT {{customer:String}} AS customer_id), "
    "pairs AS (SELECT a.product AS q, b.product AS p, count() AS together FROM t AS a INNER JOIN t AS b ON a.customer_id = b.customer_id "
    "WHERE a.product != b.product AND a.product IN (SELECT q FROM mine) GROUP BY q, p), "
    "parts AS (SELECT m.customer_id AS customer_id, pr.p AS product, pr.q AS q, pr.together / sqrt(rq.n * rp.n) AS part "
    "FROM mine AS m INNER JOIN pairs AS pr ON pr.q = m.q INNER JOIN reach AS rq ON rq.product = pr.q INNER JOIN reach AS rp ON rp.product = pr.p), "
    "candidates AS (SELECT customer_id, product, sum(part) AS score, argMax(q, (part, q)) AS because FROM parts GROUP BY customer_id, product "
    "UNION ALL SELECT p.customer_id AS customer_id, r.product AS product, 0 AS score, 'popular' AS because "
    "FROM people AS p CROSS JOIN (SELECT product FROM reach WHERE buyers > 0) AS r) "
    "SELECT c.customer_id AS customer_id, c.product AS product, any(r.name) AS name, round(max(c.score), 6) AS score, "
    "argMax(c.because, c.score) AS because, any(r.buyers) AS buyers "
    "FROM candidates AS c INNER JOIN reach AS r ON r.product = c.product "
    "WHERE (c.customer_id, c.product) NOT IN (SELECT customer_id, product FROM t WHERE bought) "
    "GROUP BY c.customer_id, c.product ORDER BY customer_id, score DESC, buyers DESC, product LIMIT {{n:UInt32}} BY customer_id "
    "SETTINGS enable_materialized_cte = 1"
)
BEA_PHONE = "+8613700000021"


def on(envelope: dict, **identifiers: str) -> dict:
    """``envelope`` sent with ``identifiers`` instead of its own."""
    return {**envelope, "identifiers": identifiers}


MERGED_LOG = [  # run 1: seven customers; run 2: Ann's device joins Bea; run 3: Bea joins Cy (Ann → Bea → Cy)
    [on(viewed("2025-03-01", "", "P1"), anonymous_id="ann-dev"), on(bought("2025-03-01", "o1", "", "P1", "P2"), phone=BEA_PHONE),
     bought("2025-03-02", "o2", "cy@example.com", "P3"), viewed("2025-03-02", "cy@example.com", "P2"),
     bought("2025-03-03", "o3", "dan@example.com", "P1", "P3"), viewed("2025-03-03", "eve@example.com", "P4"),
     bought("2025-03-04", "o4", "fay@example.com", "P2", "P3"), bought("2025-03-05", "o5", "gus@example.com", "P5", "P1"),
     on(bought("2025-03-05", "o6", "", "P5"), anonymous_id="ann-dev")],
    [event("page_viewed", "2025-03-06", anonymous_id="ann-dev", phone=BEA_PHONE)],
    [event("page_viewed", "2025-03-07", phone=BEA_PHONE, email="cy@example.com")],
]


def test_one_customers_read_equals_the_full_scan_with_merges_and_ties(platform: Platform):
    for batch in MERGED_LOG:  # one merge per run: events keep the id they had then
        import_lines((orjson.dumps(e) for e in batch), platform, "t")
        platform.runner.run()
    w = platform.warehouse
    customers = Customers(w)
    cy = customers.resolve_all("cy@example.com")[0]
    assert len(customers.merged_into(cy)) == 3  # Ann and Bea merged into Cy, their rollup rows under their own ids
    current = [r["customer_id"] for r in w.query("SELECT DISTINCT customer_id FROM cdp.profiles FINAL ORDER BY customer_id")]
    assert len(current) == 5
    product_pairs.refresh(w)
    full_scan = w.query(scored_sql(touched_sql(w.database)), params(10))
    for customer in current:
        group = customers.merged_into(customer)
        served = for_customer(w, customer, 10, group)
        before = w.query(FULL_SCAN_BEFORE_MIGRATION_32.format(touched=touched_sql(w.database)), params(10, customer, group))
        assert served == [{k: v for k, v in r.items() if k != "customer_id"} for r in before], customer
        assert served == [{k: v for k, v in r.items() if k != "customer_id"} for r in full_scan if r["customer_id"] == customer], customer
    # by hand: Cy {P1 P2 P3 P5 bought} (Ann's and Bea's with Cy's), Dan {P1 P3}, Eve {P4 viewed}, Fay {P2 P3}, Gus {P5 P1};
    # reach P1 3, P2 2, P3 3, P4 1, P5 2 (Cy once for P1, touched by Ann and Bea both)
    def top(identifier: str) -> list[tuple]:
        customer = customers.resolve_all(identifier)[0]
        return [(r["product"], r["score"], r["because"]) for r in for_customer(w, customer, 10, customers.merged_into(customer))]

    assert top("cy@example.com") == []  # bought all but P4, which co-occurs with nothing and nobody bought
    assert top("dan@example.com") == [("P2", 1.224745, "P3"), ("P5", 1.224745, "P1")]  # 1/√6 + 2/√6 each, 2 buyers each: by product id
    assert top("fay@example.com") == [("P1", 1.074915, "P3"), ("P5", 0.908248, "P2")]  # 1/√6 + 2/√9; 1/√4 + 1/√6
    assert top("eve@example.com") == [(p, 0.0, POPULAR) for p in ("P1", "P3", "P2", "P5")]  # by buyers (3, 3, 2, 2), then product id
