"""The fast funnel and retention give exactly what the straightforward SQL gives (events read with FINAL,
every event joined to its customer), on random data with what makes them differ
if done carelessly: replayed batches written twice, merged customers (one chain of two merges),
profiles with older versions and retracted rows, windows that cut through the data."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from cdp.analytics import funnel, retention
from cdp.analytics.window import Window, truncate, window
from cdp.queries import customer_events_sql
from cdp.warehouse import Warehouse
from projections.tables import profiles
from projections.tables.table import blank_row
from tests.integration.wh_contract import event_row

T0 = datetime(2025, 1, 1, tzinfo=UTC)
STEPS = ["page_viewed", "product_viewed", "product_added_to_cart", "order_placed"]
TYPES = [*STEPS, "signed_up", "message_sent"]
CUSTOMERS = [f"c{i:03d}" for i in range(400)]
MERGES = {"c001": "c000", "c002": "c000", "c003": "c004", "c005": "c006", "c007": "c008", "c009": "c010", "c011": "c012", "c012": "c013"}  # c011 → c012 → c013


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    w, rng = any_warehouse, random.Random(6)
    rows, first_seen = [], {}
    for position in range(1, 3001):
        customer = rng.choice(CUSTOMERS)
        at = T0 + timedelta(days=rng.uniform(0, 120) ** 1.1 / 1.5, seconds=rng.choice([0, 0, 1, 30]))
        rows.append(event_row(position, rng.choice(TYPES), customer=customer) | {"occurred_at": at, "received_at": at})
        first_seen[customer] = min(at, first_seen.get(customer, at))
    for start in range(0, len(rows), 500):
        w.insert("events", rows[start : start + 500])
    w.insert("events", rng.sample(rows, 900))  # a replay: the same rows written again in another batch
    w.insert("customer_merges", [{"absorbed": a, "survivor": s, "position": 1, "occurred_at": T0, "reason": "test"} for a, s in MERGES.items()])
    w.insert("profiles", [
        blank_row(profiles.TABLE) | {"customer_id": c, "version": 1, "first_seen": T0 + timedelta(days=200)} for c in first_seen  # superseded
    ] + [
        blank_row(profiles.TABLE) | {"customer_id": c, "version": 2, "first_seen": at, "is_deleted": int(c in MERGES), "merged_into": MERGES.get(c, "")}
        for c, at in first_seen.items()
    ])
    return w


def straightforward_funnel(w: Warehouse, steps: list[str], window_days: float, period: Window) -> dict[int, int]:
    conditions = ", ".join(f"event_type = {{s{i}:String}}" for i in range(len(steps)))
    source = customer_events_sql(w.database, "event_type, occurred_at", f"event_type IN {{steps:Array(String)}} AND {period.where('occurred_at')}")
    rows = w.query(
        f"SELECT level, count() AS customers FROM (SELECT customer_id, windowFunnel({{window:UInt64}})(toDateTime(occurred_at), {conditions}) AS level "
        f"FROM {source} GROUP BY customer_id) WHERE level > 0 GROUP BY level",
        {**{f"s{i}": s for i, s in enumerate(steps)}, "steps": steps, "window": int(window_days * 86400), **period.params},
    )
    return {r["level"]: r["customers"] for r in rows}


def straightforward_retention(w: Warehouse, period: str, cohorts: Window) -> list[dict]:
    db, cohort, active = w.database, truncate(period, "p.first_seen"), truncate(period, "e.occurred_at")
    return w.query(
        f"SELECT cohort, offset, active, round(100 * active / size, 1) AS pct FROM ("
        f"SELECT {cohort} AS cohort, dateDiff('{period}', cohort, {active}) AS offset, uniqExact(e.customer_id) AS active "
        f"FROM {customer_events_sql(db, 'occurred_at', '1')} AS e "
        f"INNER JOIN (SELECT customer_id, first_seen FROM `{db}`.profiles FINAL WHERE {cohorts.where('first_seen')}) AS p "
        "ON p.customer_id = e.customer_id WHERE offset >= 0 GROUP BY cohort, offset) AS a "
        f"INNER JOIN (SELECT {truncate(period, 'first_seen')} AS cohort, count() AS size FROM `{db}`.profiles FINAL "
        f"WHERE {cohorts.where('first_seen')} GROUP BY cohort) AS s USING (cohort) ORDER BY cohort, offset",
        cohorts.params,
    )


WINDOWS = [window(None, None), window("2025-01-20", "2025-03-01"), window("2025-02-10", None)]


@pytest.mark.parametrize("steps", [STEPS, STEPS[:2], ["product_viewed", "page_viewed", "order_placed"]], ids=["4-steps", "2-steps", "reordered"])
@pytest.mark.parametrize("window_days", [0.5, 7, 30])
@pytest.mark.parametrize("period", WINDOWS, ids=["all", "jan20-mar", "from-feb10"])
def test_funnel_equals_the_straightforward_sql(warehouse, steps, window_days, period):
    reached = straightforward_funnel(warehouse, steps, window_days, period)
    expected = [sum(n for level, n in reached.items() if level >= i) for i in range(1, len(steps) + 1)]
    assert expected[0] > 0 and expected[-1] < expected[0]  # the data exercises the funnel
    assert [r["customers"] for r in funnel.funnel(warehouse, steps, window_days, period)] == expected


@pytest.mark.parametrize("period", ["day", "week", "month"])
@pytest.mark.parametrize("cohorts", WINDOWS, ids=["all", "jan20-mar", "from-feb10"])
def test_retention_equals_the_straightforward_sql(warehouse, period, cohorts):
    expected = straightforward_retention(warehouse, period, cohorts)
    assert len(expected) > 3 and any(r["offset"] > 0 for r in expected)
    assert retention.retention(warehouse, period, cohorts) == expected


def test_the_data_holds_replayed_copies_and_merged_customers(warehouse):
    """What the equivalence rests on is really in the data (not a test that cannot fail)."""
    db = warehouse.database
    (copies,) = warehouse.query(f"SELECT count() - uniqExact(position) AS n FROM `{db}`.events")
    assert copies["n"] > 0
    merged = warehouse.query(f"SELECT count() AS n FROM `{db}`.events FINAL WHERE customer_id IN {{ids:Array(String)}}", {"ids": list(MERGES)})
    assert merged[0]["n"] > 30
