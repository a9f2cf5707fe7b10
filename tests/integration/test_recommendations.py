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
"""

import orjson
import pytest

from cdp.platform import Platform
from cdp.recommendations import held_out_sql, params, popular_sql, scored_sql
from cdp.services import Caller, Forbidden, operator
from cdp.services.profiles import ProfileService
from cdp.services.recommendations import RecommendationService
from ingestion.jsonl import import_lines
from tests.cli import cdp
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


def test_the_evaluation_holds_out_the_last_purchase_day(loaded: Platform):
    import_lines((orjson.dumps(e) for e in LATER), loaded, "t")
    loaded.runner.run()
    w = loaded.warehouse
    history, held = held_out_sql(w.database)
    (held_row,) = w.query(f"SELECT * FROM {held}", params(5))
    assert held_row["product"] == "P2"
    assert RecommendationService(loaded, operator()).for_customer("b@example.com", 3) == []  # now B bought P1-P3; P4, bought by nobody, co-occurs with nothing
    on_history = [r for r in w.query(scored_sql(history, False), params(5)) if r["customer_id"] == held_row["customer_id"]]
    assert [(r["product"], r["score"], r["because"]) for r in on_history] == [("P2", 0.908248, "P3")]  # B before February: a hit
    assert [r["product"] for r in w.query(popular_sql(history), params(5))] == ["P1", "P2", "P3"]  # B's P2 of February not counted


def test_cdp_recommend(loaded: Platform):
    done = cdp("recommend", "c@example.com", "--n", "2", "--format", "json", data_dir=loaded.settings.data_dir)
    assert done.returncode == 0, done.stderr.decode()
    assert [r["product"] for r in orjson.loads(done.stdout)] == ["P1", "P3"]
