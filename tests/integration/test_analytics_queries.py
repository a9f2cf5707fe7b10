"""The analyses on both warehouse backends, on hand-made rows whose answers are worked out by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from cdp.analytics import channels, funnel, lifecycle_flow, retention, revenue, satisfaction, sla
from cdp.analytics.window import window
from cdp.errors import CdpError
from projections.tables import customer_value, lifecycle_transitions, profiles, survey_answers, tickets
from projections.tables.table import blank_row
from tests.integration.wh_contract import event_row

T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def ev(position: int, customer: str, event_type: str, days: float, kind: str = "website") -> dict:
    return event_row(position, event_type, customer=customer) | {"occurred_at": at(days), "received_at": at(days), "source_kind": kind}


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    w = any_warehouse
    w.insert("events", [
        # a: the whole funnel within a day; b: view, product, cart after 9 days; c: view only; d: product only (no first step)
        ev(1, "a", "page_viewed", 0), ev(2, "a", "product_viewed", 0.1), ev(3, "a", "product_added_to_cart", 0.2), ev(4, "a", "order_placed", 0.3, "sales"),
        ev(5, "b", "page_viewed", 0), ev(6, "b", "product_viewed", 1), ev(7, "b", "product_added_to_cart", 9),
        ev(8, "c", "page_viewed", 2), ev(9, "d", "product_viewed", 2),
        ev(10, "a", "page_viewed", 35), ev(11, "c", "page_viewed", 65),  # a back in February, c in March
    ])
    w.insert("profiles", [
        blank_row(profiles.TABLE) | {"customer_id": c, "version": 1, "first_seen": at(0 if c != "d" else 2), "lifecycle_stage": stage, "orders": orders, "revenue": rev}
        for c, stage, orders, rev in [("a", "new", 1, 300.0), ("b", "prospect", 0, 0.0), ("c", "prospect", 0, 0.0), ("d", "repeat", 2, 100.0)]
    ])
    w.insert("customer_value", [blank_row(customer_value.TABLE) | {"customer_id": "a", "tier": "vip", "version": 1}])
    w.insert("lifecycle_transitions", [
        blank_row(lifecycle_transitions.TABLE) | {"customer_id": c, "at": at(d), "from_stage": f, "to_stage": t, "cause": "", "version": 1}
        for c, d, f, t in [("a", 0, "", "prospect"), ("a", 0.3, "prospect", "new"), ("b", 0, "", "prospect"), ("d", 40, "new", "repeat")]
    ])
    w.insert("survey_answers", [
        blank_row(survey_answers.TABLE) | {"position": p, "customer_id": "a", "at": at(d), "kind": k, "event_type": "x", "score": s, "category": cat}
        for p, d, k, s, cat in [(1, 1, "nps", 10, "promoter"), (2, 2, "nps", 9, "promoter"), (3, 3, "nps", 3, "detractor"), (4, 4, "nps", 7, "passive"),
                                (5, 1, "csat", 5, "satisfied"), (6, 2, "csat", 2, "unsatisfied"), (7, 3, "csi", 8.0, ""), (8, 4, "csi", 6.0, "")]
    ])
    w.insert("tickets", [
        blank_row(tickets.TABLE) | {"customer_id": "a", "ticket_id": t, "opened_at": at(1), "channel": "phone", "is_complaint": comp, "response_sla": r, "resolution_sla": s, "response_minutes": m, "version": 1}
        for t, comp, r, s, m in [("t1", 1, "met", "met", 30.0), ("t2", 0, "breached", "breached", 2000.0), ("t3", 0, "met", "pending", 60.0)]
    ])
    return w


def test_funnel_counts_customers_reaching_each_step_in_order_within_the_window(warehouse):
    steps = ["page_viewed", "product_viewed", "product_added_to_cart", "order_placed"]
    rows = funnel.funnel(warehouse, steps, 7, window(None, None))
    assert [(r["event_type"], r["customers"]) for r in rows] == [("page_viewed", 3), ("product_viewed", 2), ("product_added_to_cart", 1), ("order_placed", 1)]
    assert [r["customers"] for r in funnel.funnel(warehouse, steps, 10, window(None, None))] == [3, 2, 2, 1]
    assert [r["customers"] for r in funnel.funnel(warehouse, steps, 7, window("2025-01-07", None))] == [2, 0, 0, 0]  # a (Feb) and c (Jan 8, Mar)
    with pytest.raises(CdpError, match="2 to 32 steps"):
        funnel.funnel(warehouse, ["page_viewed"], 7, window(None, None))


def test_retention_by_monthly_cohort(warehouse):
    rows = retention.retention(warehouse, "month", window(None, None))
    assert [(r["cohort"], r["offset"], r["active"], r["pct"]) for r in rows] == [
        ("2025-01-01", 0, 4, 100), ("2025-01-01", 1, 1, 25), ("2025-01-01", 2, 1, 25),
    ]


def test_lifecycle_flow_between_two_dates(warehouse):
    rows = lifecycle_flow.lifecycle_flow(warehouse, window("2025-01-01", "2025-02-01"))
    assert [(r["from_stage"], r["to_stage"], r["customers"]) for r in rows] == [("", "prospect", 2), ("prospect", "new", 1)]


def test_satisfaction_trend(warehouse):
    (row,) = satisfaction.satisfaction_trend(warehouse, "month", window(None, None))
    assert row == {"period": "2025-01-01", "nps_answers": 4, "nps": 25, "csat_answers": 2, "csat_pct": 50, "csi_answers": 2, "csi": 7}


def test_revenue_by_stage_and_tier(warehouse):
    rows = revenue.revenue_by_stage_and_tier(warehouse)
    assert [(r["lifecycle_stage"], r["tier"], r["customers"], r["revenue"], r["revenue_pct"]) for r in rows] == [
        ("new", "vip", 1, 300, 75), ("repeat", "none", 1, 100, 25), ("prospect", "none", 2, 0, 0),
    ]


def test_channel_mix_from_the_daily_rollup(warehouse):
    rows = channels.channel_mix(warehouse, "month", window(None, None))
    assert [(r["period"], r["source_kind"], r["events"], r["pct"]) for r in rows] == [
        ("2025-01-01", "website", 8, 88.9), ("2025-01-01", "sales", 1, 11.1), ("2025-02-01", "website", 1, 100), ("2025-03-01", "website", 1, 100),
    ]


def test_sla_compliance(warehouse):
    (row,) = sla.sla_compliance(warehouse, "week", window(None, None))
    assert row == {"period": "2025-01-06", "channel": "phone", "tickets": 3, "complaints": 1, "response_in_time_pct": 66.7,
                   "resolved_in_time_pct": 50, "pending": 1, "median_response_minutes": 60}


def test_an_unknown_period_is_refused(warehouse):
    with pytest.raises(CdpError, match="period: expected day, week or month"):
        sla.sla_compliance(warehouse, "year", window(None, None))
