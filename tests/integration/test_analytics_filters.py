"""The analyses narrowed to a segment's customers and broken down by channel, source or campaign, and
revenue over time, on hand-made rows whose answers are worked out by hand (both warehouse backends)."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from cdp.analytics import channels, funnel, lifecycle_flow, retention, revenue, satisfaction, sla
from cdp.analytics.filters import Members, breakdown_sql
from cdp.analytics.window import window
from cdp.errors import CdpError
from cdp.segments.compiler import compile_segment
from cdp.segments.model import parse_segment
from projections.tables import lifecycle_transitions, profiles, survey_answers, tickets
from projections.tables.table import blank_row
from tests.integration.wh_contract import event_row

T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday
EVERYONE = window(None, None)
STEPS = ["page_viewed", "product_viewed", "order_placed"]


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def ev(position: int, customer: str, event_type: str, days: float, kind: str = "website", campaign: dict | None = None, properties: dict | None = None) -> dict:
    row = event_row(position, event_type, customer=customer) | {"occurred_at": at(days), "received_at": at(days), "source_kind": kind}
    if properties is not None:
        row["properties"] = orjson.dumps(properties).decode()
    return row | {"context": orjson.dumps({"campaign": campaign} if campaign else {}).decode()}


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    w = any_warehouse
    w.insert("events", [
        # a came by the spring campaign from WeChat and bought 100 CNY, refunded 20 CNY the next week;
        # b came by 618 from Weibo and bought 50 USD; c only viewed a page; d is a CRM lead of the webinar campaign
        ev(1, "a", "page_viewed", 0, campaign={"name": "spring", "source": "wechat"}), ev(2, "a", "product_viewed", 0.1),
        ev(3, "a", "order_placed", 0.3, "sales", properties={"amount": 100.0, "currency": "CNY"}),
        ev(4, "b", "page_viewed", 0, campaign={"name": "618", "source": "weibo"}), ev(5, "b", "product_viewed", 1),
        ev(6, "b", "order_placed", 2, "sales", properties={"amount": 50.0, "currency": "USD"}),
        ev(7, "c", "page_viewed", 2),
        ev(8, "d", "lead_created", 3, "sales", properties={"lead_id": "L1", "campaign": "webinar"}),
        ev(9, "a", "order_refunded", 8, "sales", properties={"amount": 20.0, "currency": "CNY"}),
    ])
    w.insert("profiles", [
        blank_row(profiles.TABLE) | {"customer_id": c, "version": 1, "first_seen": at(0), "lifecycle_stage": stage, "orders": orders, "revenue": rev}
        for c, stage, orders, rev in [("a", "new", 1, 100.0), ("b", "new", 1, 50.0), ("c", "prospect", 0, 0.0), ("d", "prospect", 0, 0.0)]
    ])
    w.insert("lifecycle_transitions", [
        blank_row(lifecycle_transitions.TABLE) | {"customer_id": c, "at": at(d), "from_stage": f, "to_stage": t, "cause": "", "version": 1}
        for c, d, f, t in [("a", 0, "", "prospect"), ("a", 0.3, "prospect", "new"), ("c", 2, "", "prospect")]
    ])
    w.insert("survey_answers", [
        blank_row(survey_answers.TABLE) | {"position": p, "customer_id": c, "at": at(1), "kind": "nps", "event_type": "nps_answered", "score": s, "category": cat}
        for p, c, s, cat in [(20, "a", 10, "promoter"), (21, "c", 2, "detractor")]
    ])
    w.insert("tickets", [
        blank_row(tickets.TABLE) | {"customer_id": c, "ticket_id": t, "opened_at": at(1), "channel": "phone", "response_sla": "met", "resolution_sla": "met", "version": 1}
        for c, t in [("b", "t1"), ("c", "t2"), ("c", "t3")]
    ])
    return w


def members(warehouse, where: dict) -> Members:
    """A segment's customers, compiled as the analytics service compiles a saved segment."""
    return Members.of(compile_segment(parse_segment({"name": "s", "where": where}), warehouse.database, at(30)))


def buyers(warehouse) -> Members:
    return members(warehouse, {"field": "orders", "op": ">=", "value": 1})


def test_a_funnel_of_a_segments_customers(warehouse):
    assert [r["customers"] for r in funnel.funnel(warehouse, STEPS, 7, EVERYONE)] == [3, 2, 2]
    assert [r["customers"] for r in funnel.funnel(warehouse, STEPS, 7, EVERYONE, buyers(warehouse))] == [2, 2, 2]  # c is no buyer


def test_a_funnel_broken_down_by_the_campaign_of_its_first_step(warehouse):
    rows = funnel.funnel(warehouse, STEPS, 7, EVERYONE, breakdown="campaign")
    assert [(r["breakdown"], r["step"], r["customers"], r["of_first_pct"]) for r in rows] == [
        ("", 1, 1, 100), ("", 2, 0, 0), ("", 3, 0, 0),  # c came by no campaign and went no further
        ("618", 1, 1, 100), ("618", 2, 1, 100), ("618", 3, 1, 100),
        ("spring", 1, 1, 100), ("spring", 2, 1, 100), ("spring", 3, 1, 100),
    ]


def test_channel_mix_by_utm_source_for_a_segment(warehouse):
    rows = channels.channel_mix(warehouse, "month", EVERYONE, buyers(warehouse), "source")
    assert {(r["source_kind"], r["breakdown"], r["events"], r["pct"]) for r in rows} == {
        # January: a and b's 7 events (the refund too); c and d are no buyers
        ("website", "wechat", 1, 14.3), ("website", "weibo", 1, 14.3), ("website", "", 2, 28.6), ("sales", "", 3, 42.9),
    }
    assert {r["period"] for r in rows} == {"2025-01-01"}


def test_a_crm_leads_campaign_property_counts_as_its_campaign(warehouse):
    rows = channels.channel_mix(warehouse, "month", window("2025-01-09", "2025-01-10"), breakdown="campaign")
    assert [(r["source_kind"], r["breakdown"], r["events"]) for r in rows] == [("sales", "webinar", 1)]


def test_revenue_over_time_per_currency_never_added_together(warehouse):
    rows = revenue.revenue_trend(warehouse, "week", EVERYONE)
    assert [(r["period"], r["currency"], r["purchases"], r["revenue"], r["refunds"], r["refunded"], r["net_revenue"]) for r in rows] == [
        ("2025-01-06", "CNY", 1, 100, 0, 0, 100), ("2025-01-06", "USD", 1, 50, 0, 0, 50), ("2025-01-13", "CNY", 0, 0, 1, 20, -20),
    ]
    by_day = revenue.revenue_trend(warehouse, "day", window("2025-01-06", "2025-01-13"), members(warehouse, {"field": "revenue", "op": ">", "value": 60}))
    assert [(r["period"], r["currency"], r["revenue"]) for r in by_day] == [("2025-01-06", "CNY", 100)]  # only a, only its first week


def test_revenue_by_stage_and_tier_of_the_purchases_in_a_date_range(warehouse):
    rows = revenue.revenue_by_stage_and_tier(warehouse, window("2025-01-06", "2025-01-07"))
    assert [(r["lifecycle_stage"], r["customers"], r["buyers"], r["revenue"]) for r in rows] == [("new", 2, 1, 100), ("prospect", 2, 0, 0)]
    rows = revenue.revenue_by_stage_and_tier(warehouse, None, buyers(warehouse))
    assert [(r["lifecycle_stage"], r["customers"], r["buyers"], r["revenue"]) for r in rows] == [("new", 2, 2, 150)]


def test_every_other_analysis_takes_a_segment(warehouse):
    prospects = members(warehouse, {"field": "lifecycle_stage", "op": "=", "value": "prospect"})
    assert [(r["cohort"], r["offset"], r["active"]) for r in retention.retention(warehouse, "month", EVERYONE)] == [("2025-01-01", 0, 4)]
    assert [(r["cohort"], r["offset"], r["active"]) for r in retention.retention(warehouse, "month", EVERYONE, prospects)] == [("2025-01-01", 0, 2)]
    assert [(r["from_stage"], r["to_stage"]) for r in lifecycle_flow.lifecycle_flow(warehouse, EVERYONE, prospects)] == [("", "prospect")]
    assert [(r["nps_answers"], r["nps"]) for r in satisfaction.satisfaction_trend(warehouse, "month", EVERYONE, prospects)] == [(1, -100)]
    assert [(r["nps_answers"], r["nps"]) for r in satisfaction.satisfaction_trend(warehouse, "month", EVERYONE, buyers(warehouse))] == [(1, 100)]
    assert [(r["channel"], r["tickets"]) for r in sla.sla_compliance(warehouse, "month", EVERYONE, prospects)] == [("phone", 2)]


def test_a_breakdown_is_chosen_by_name_and_an_unknown_one_is_named():
    with pytest.raises(CdpError, match=r"breakdown: expected one of channel, source, campaign; got 'utm_medium'"):
        breakdown_sql("utm_medium")
    with pytest.raises(CdpError, match=r"breakdown: expected one of source, campaign; got 'channel'"):
        channels.channel_mix(None, "month", EVERYONE, breakdown="channel")  # refused before any query
