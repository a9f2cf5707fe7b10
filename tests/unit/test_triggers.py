"""Triggers, worked by hand through the whole pipeline (``Replay``, as the runner does it): what
fires, when, to whom, with which id; and that a rebuild derives the same ids (docs/triggers.md)."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from projections.triggers import Trigger, TriggerRules
from schemas import describe, parse_envelope
from tests.events import event, order

EMAIL = {"destination": "mail", "channel": "email", "template": "greeting", "purpose": "email_marketing"}
STAFF = {"destination": "team_chat", "channel": "staff", "template": "alert", "purpose": ""}
LONG_AGO = "2020-01-01"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def pipeline(rules: dict, start: str = LONG_AGO, **settings) -> Pipeline:
    triggers = TriggerRules.model_validate({"rules": rules, **settings})
    enabled = [Trigger(name, rule, ms(start)) for name, rule in triggers.rules.items()]
    return Pipeline(ProjectionRules(triggers=triggers), enabled)


def replay(pipe: Pipeline, *envelopes: dict, batch_size: int = 1) -> Replay:
    tps = [Touchpoint(p, parse_envelope(e).model_dump(mode="json")) for p, e in enumerate(envelopes, start=1)]
    return Replay(pipe, keep_rows=False).run(tps, batch_size)


def fired(result: Replay) -> list[tuple]:
    return [(a.rule, a.cause, a.cause_time, a.not_before, a.channel, a.destination) for a in result.actions]


BIRTHDAY = {"greeting": {"when": {"kind": "birthday", "days_before": 3}, "then": EMAIL}}
ALICE = {"email": "alice@example.com"}


def birthday_log() -> list[dict]:
    return [
        event("identified", "2026-03-01", traits={"birthday": "1990-03-10", "timezone": "Asia/Shanghai"}, **ALICE),
        event("page_viewed", "2026-03-07T02:00:00Z", properties={"url": "https://shop.example.com/"}, email="bob@example.com"),  # time passes: someone else's event
        event("page_viewed", "2026-03-09", properties={"url": "https://shop.example.com/"}, **ALICE),
    ]


def test_a_birthday_greeting_fires_days_before_at_local_midnight_held_to_the_end_of_quiet_hours():
    result = replay(pipeline(BIRTHDAY), *birthday_log())
    # 2026-03-07 00:00 in Shanghai is 16:00 UTC the day before; quiet hours (21:00-09:00) hold it to 09:00 there
    assert fired(result) == [("trigger:greeting", "d:2026-03-07:birthday", utc("2026-03-06T16:00:00"), utc("2026-03-07T01:00:00"), "email", "mail")]
    assert result.actions[0].payload == {"trigger": "greeting", "when": "birthday", "day": "2026-03-07", "days_before": 3}


def test_a_birthday_greeting_fires_once_and_a_full_rebuild_derives_the_same_id():
    log = birthday_log()  # the same events (customer ids come from message ids)
    incremental = replay(pipeline(BIRTHDAY), *log, batch_size=1)
    rebuilt = replay(pipeline(BIRTHDAY), *log, batch_size=100)
    assert [a.action_id for a in incremental.actions] == [a.action_id for a in rebuilt.actions]
    assert len(incremental.actions) == 1


def test_a_customer_greeted_before_a_merge_is_not_greeted_again_as_the_merged_customer():
    log = [
        event("page_viewed", "2026-02-20", properties={"url": "https://x.example/"}, phone="+8613800000001"),
        *birthday_log()[:2],  # Alice (by email) is greeted on 7 March
        event("identified", "2026-03-08", email="alice@example.com", phone="+8613800000001"),  # one person: the two merge
        event("page_viewed", "2026-03-09", properties={"url": "https://x.example/"}, email="bob@example.com"),
    ]
    for batch_size in (1, 100):
        assert [a.cause for a in replay(pipeline(BIRTHDAY), *log, batch_size=batch_size).actions] == ["d:2026-03-07:birthday"]


def test_a_forgotten_customer_is_never_the_subject_of_an_action():
    log = [*birthday_log()[:1], event("customer_erased", "2026-03-02", properties={"erasure_token": "0" * 32}, **ALICE), *birthday_log()[1:]]
    assert replay(pipeline(BIRTHDAY), *log).actions == []


def test_a_revisit_fires_days_after_each_purchase():
    pipe = pipeline({"revisit": {"when": {"kind": "revisit", "days_after": 7}, "then": {**EMAIL, "channel": "sms", "purpose": "sms_marketing"}}})
    result = replay(pipe, order("2026-02-01T10:00:00Z", 80, "o1", **ALICE), event("page_viewed", "2026-02-09", properties={"url": "https://x.example/"}, email="bob@example.com"))
    assert fired(result) == [("trigger:revisit", "d:2026-02-08:revisit", utc("2026-02-08T10:00:00"), None, "sms", "mail")]
    assert result.actions[0].payload["purchase_position"] == 1


def test_a_complaint_past_its_sla_raises_a_staff_alert_and_one_answered_in_time_none():
    pipe = pipeline({"late_complaint": {"when": {"kind": "complaint_past_sla"}, "then": STAFF}})
    late = event("ticket_opened", "2026-02-01T23:30:00Z", properties={"ticket_id": "T1", "is_complaint": True}, **ALICE)
    answered = [
        event("ticket_opened", "2026-02-01T08:00:00Z", properties={"ticket_id": "T2", "is_complaint": True}, email="bob@example.com"),
        event("ticket_first_responded", "2026-02-01T09:00:00Z", properties={"ticket_id": "T2"}, email="bob@example.com"),
    ]
    tick = event("page_viewed", "2026-02-03", properties={"url": "https://x.example/"}, email="carol@example.com")
    result = replay(pipe, late, *answered, tick)
    # staff alerts go at any hour (23:30 is quiet for a customer) and need no consent purpose
    assert fired(result) == [("trigger:late_complaint", "d:2026-02-02:complaint:T1:response", utc("2026-02-02T23:30:00"), None, "staff", "team_chat")]
    assert result.actions[0].purpose == ""


def test_a_vip_turning_at_risk_alerts_staff_and_an_ordinary_customer_does_not():
    pipe = pipeline({"vip_at_risk": {"when": {"kind": "lifecycle", "to_stage": "at_risk"}, "where": {"tiers": ["vip", "super"]}, "then": STAFF}})
    vip = order("2026-01-01", 2500, "o1", **ALICE)  # 2,000 or more: VIP; one purchase: at risk after 90 days
    ordinary = order("2026-01-01", 100, "o2", email="bob@example.com")
    tick = event("page_viewed", "2026-04-02", properties={"url": "https://x.example/"}, email="carol@example.com")
    result = replay(pipe, vip, ordinary, tick)
    assert [(a.customer_id, a.cause) for a in result.actions] == [(result.actions[0].customer_id, "d:2026-04-01:lifecycle:new>at_risk")]
    assert result.actions[0].payload["to_stage"] == "at_risk"
    assert len({a.customer_id for a in result.actions}) == 1


def test_the_frequency_cap_counts_per_customer_and_channel():
    rules = {"viewed": {"when": {"kind": "event", "event_type": "product_viewed"}, "then": EMAIL}}
    pipe = pipeline(rules, frequency_caps={"email": {"count": 1, "days": 7}})
    views = [event("product_viewed", day, properties={"product_id": "p1"}, **ALICE) for day in ("2026-02-01", "2026-02-03", "2026-02-09")]
    result = replay(pipe, *views)
    assert [a.cause for a in result.actions] == ["p:1", "p:3"]  # the second is within 7 days of the first


def test_quiet_hours_are_in_the_customers_zone_or_the_default_zone():
    rules = {"viewed": {"when": {"kind": "event", "event_type": "product_viewed"}, "then": EMAIL}}
    pipe = pipeline(rules, default_time_zone="Europe/Paris", quiet_hours={"start": "22:00", "end": "08:00"})
    paris = event("product_viewed", "2026-07-01T21:30:00Z", properties={"product_id": "p1"}, **ALICE)  # 23:30 in Paris (summer time)
    tokyo = event("product_viewed", "2026-07-01T21:30:00Z", properties={"product_id": "p1"}, traits={"timezone": "Asia/Tokyo"}, email="bob@example.com")  # 06:30
    afternoon = event("product_viewed", "2026-07-01T12:00:00Z", properties={"product_id": "p1"}, email="carol@example.com")  # 14:00 in Paris
    result = replay(pipe, paris, tokyo, afternoon)
    assert [a.not_before for a in result.actions] == [utc("2026-07-02T06:00:00"), utc("2026-07-01T23:00:00"), None]


def test_a_trigger_added_today_does_not_fire_for_old_causes_and_a_backfill_does():
    rules = {"viewed": {"when": {"kind": "event", "event_type": "product_viewed"}, "then": EMAIL}}
    log = [event("product_viewed", "2026-02-01", properties={"product_id": "p1"}, **ALICE), event("product_viewed", "2026-02-02", properties={"product_id": "p2"}, **ALICE)]
    assert [a.cause for a in replay(pipeline(rules, start="2026-02-02"), *log).actions] == ["p:2"]
    assert [a.cause for a in replay(pipeline(rules, start="2026-01-15"), *log).actions] == ["p:1", "p:2"]


def test_a_holiday_fires_only_in_its_configured_years():
    rules = {"new_year": {"when": {"kind": "holiday", "holiday": "spring_festival", "days_before": 1}, "then": EMAIL}}
    pipe = pipeline(rules, holidays={"spring_festival": {"month_day": "02-17", "years": [2026]}}, quiet_hours=None)
    log = [order("2026-02-10", 50, "o1", **ALICE), event("page_viewed", "2026-02-17", properties={"url": "https://x.example/"}, email="bob@example.com")]
    result = replay(pipe, *log)
    assert [(a.customer_id != "", a.cause, a.cause_time) for a in result.actions] == [(True, "d:2026-02-16:holiday:spring_festival", utc("2026-02-16T00:00:00"))] * 2


def test_a_churn_level_raised_fires_at_the_end_of_the_day_it_rose():
    rules = {"churn_high": {"when": {"kind": "churn_raised", "to_level": "medium"}, "then": STAFF}}
    log = [
        order("2026-01-01", 50, "o1", **ALICE),
        event("nps_answered", "2026-01-05T10:00:00Z", properties={"score": 2}, **ALICE),  # a detractor (+25) with a recent complaint (+10): medium
        event("ticket_opened", "2026-01-05T11:00:00Z", properties={"ticket_id": "T1", "is_complaint": True}, **ALICE),
        event("page_viewed", "2026-01-06T12:00:00Z", properties={"url": "https://x.example/"}, email="bob@example.com"),
    ]
    result = replay(pipeline(rules), *log)
    assert [(a.cause, a.cause_time) for a in result.actions] == [("d:2026-01-05:churn:medium", utc("2026-01-05T23:59:59.999"))]


def test_the_preferred_channel_picks_the_route():
    send = {**EMAIL, "by_preferred_channel": {"social": {"destination": "wechat_oa", "channel": "wechat"}}}
    pipe = pipeline({"viewed": {"when": {"kind": "event", "event_type": "message_sent"}, "then": send}})
    social = event("message_sent", "2026-02-01", properties={"platform": "wechat", "text": "hi"}, wechat="wx_alice")
    assert [(a.destination, a.channel) for a in replay(pipe, social).actions] == [("wechat_oa", "wechat")]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rules": {"x": {"when": {"kind": "birthday", "days_before": -1}, "then": EMAIL}}}, "rules.x.when.birthday.days_before: Input should be greater than or equal to 0"),
        ({"rules": {"x": {"when": {"kind": "bday"}, "then": EMAIL}}}, "rules.x.when: kind must be one of event, lifecycle"),
        ({"rules": {"x": {"when": {"kind": "event", "event_type": "nope"}, "then": EMAIL}}}, "rules.x.when.event.event_type: unknown event type 'nope'"),
        ({"rules": {"x": {"when": {"kind": "birthday"}, "then": {**EMAIL, "purpose": ""}}}}, "rules.x.then: a message to a customer needs a consent purpose"),
        ({"rules": {"x": {"when": {"kind": "birthday"}, "then": {**STAFF, "purpose": "email_marketing"}}}}, "rules.x.then: the 'staff' channel alerts the team"),
        ({"rules": {"x": {"when": {"kind": "holiday", "holiday": "xmas"}, "then": EMAIL}}}, "rules: x.when.holiday: no holiday 'xmas' in holidays"),
        ({"rules": {"x": {"when": {"kind": "birthday"}, "where": {"tiers": ["gold"]}, "then": EMAIL}}}, "rules.x.where.tiers[0]: Input should be 'ordinary', 'vip' or 'super'"),
        ({"default_time_zone": "Mars/Base"}, "default_time_zone: unknown time zone 'Mars/Base'"),
        ({"holidays": {"x": {"month_day": "13-01"}}}, "holidays.x.month_day: String should match pattern"),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(config, message):
    with pytest.raises(ValidationError) as error:
        TriggerRules.model_validate(config)
    assert describe(error.value).startswith(message)
