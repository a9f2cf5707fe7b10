"""Hand-made scenarios, one per projection, each answer worked out by hand from the default rules.

The log ends on 2025-12-01 10:00 (Otto's visit), so everything is evaluated as of then.

Family: Dad and Mum share family@example.com, each signs in with their own user id; the till
records the placeholder phone 13800138000 for an anonymous buyer. Joining Mum to Dad would give
one customer two user ids (limit 1): refused and recorded. The placeholder is blocked. → 3 people.

Li uses the web (anonymous, then an email), WeChat (handle + phone) and the shop (email + phone):
one customer, one merge. Orders 300 (09-03) and 900 (09-20), 100 refunded; a complaint ticket
answered after 30 h (SLA 24 h: breached), resolved after 40 h (72 h: met), escalated once; NPS
10 then 6; CSAT 5 and 3; CSI 8/6/7/9 (equal weights: 7.5); feedback "质量太差了" (negative);
one referral; consent_email true, later false; acts for account acme.
"""

import orjson
import pytest

from cdp.customers import Customers
from cdp.config import load_settings
from cdp.identity_explain import explain
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.timetravel import profile_as_of
from ingestion.jsonl import import_lines
from tests.events import event, order

LI = {"email": "li@example.com"}
SCENARIO = [
    event("identified", "2025-03-01T10:00:00Z", anonymous_id="dad-dev", email="family@example.com", user_id="u-dad"),
    event("identified", "2025-03-01T11:00:00Z", anonymous_id="mum-dev", email="family@example.com", user_id="u-mum"),
    event("store_purchase_made", "2025-03-02T12:00:00Z", phone="+8613800138000", properties={"order_id": "s-1", "amount": 50}),
    event("page_viewed", "2025-09-01T09:00:00Z", anonymous_id="li-dev"),
    event("identified", "2025-09-01T09:05:00Z", anonymous_id="li-dev", email="li@example.com", account_id="acme", traits={"name": "Li", "gender": "female", "consent_email": True}),
    event("message_sent", "2025-09-02T20:00:00Z", wechat="li_w", phone="+8613900000009", properties={"platform": "wechat", "text": "是否有新款?"}),
    order("2025-09-03T10:00:00Z", 300, "o1", email="li@example.com", phone="+8613900000009"),
    order("2025-09-20T10:00:00Z", 900, "o2", **LI),
    event("order_refunded", "2025-09-21T10:00:00Z", properties={"order_id": "o2", "amount": 100}, **LI),
    event("ticket_opened", "2025-09-25T10:00:00Z", properties={"ticket_id": "T1", "is_complaint": True, "priority": "high", "channel": "email"}, **LI),
    event("ticket_first_responded", "2025-09-26T16:00:00Z", properties={"ticket_id": "T1"}, **LI),
    event("ticket_escalated", "2025-09-26T17:00:00Z", properties={"ticket_id": "T1"}, **LI),
    event("ticket_resolved", "2025-09-27T02:00:00Z", properties={"ticket_id": "T1"}, **LI),
    event("nps_answered", "2025-09-28T10:00:00Z", properties={"score": 10}, **LI),
    event("nps_answered", "2025-10-05T10:00:00Z", properties={"score": 6}, **LI),
    event("csat_answered", "2025-10-05T10:05:00Z", properties={"score": 5}, **LI),
    event("csat_answered", "2025-10-06T10:00:00Z", properties={"score": 3}, **LI),
    event("csi_answered", "2025-10-06T11:00:00Z", properties={"factors": {"product_quality": 8, "service": 6, "price_value": 7, "brand": 9}}, **LI),
    event("feedback_given", "2025-10-07T10:00:00Z", properties={"text": "质量太差了"}, **LI),
    event("event_tracked", "2025-10-08T10:00:00Z", properties={"name": "friend_referred"}, **LI),
    event("identified", "2025-10-10T10:00:00Z", traits={"consent_email": False}, **LI),
    event("page_viewed", "2025-12-01T10:00:00Z", anonymous_id="otto-dev"),
]


def process(platform: Platform) -> Platform:
    report = import_lines((orjson.dumps(e) for e in SCENARIO), platform, "scenario")
    assert (report.stored, report.rejected) == (len(SCENARIO), [])
    assert platform.runner.run() == len(SCENARIO)
    return platform


@pytest.fixture
def processed(platform: Platform) -> Platform:
    """A data directory of the test's own, for a test that writes (a rebuild) or closes the platform."""
    return process(platform)


@pytest.fixture(scope="module")
def shared(module_platform: Platform) -> Platform:
    """The module's one processed data directory (``module_platform``), for the tests that only read it."""
    return process(module_platform)


def customer(platform: Platform, identifier: str) -> str:
    (found,) = Customers(platform.warehouse).resolve_all(identifier)
    return found


def till_buyer(platform: Platform) -> str:
    """The placeholder phone joins nobody, so it is not an identity to look up: find the customer by the event."""
    (found,) = platform.warehouse.query("SELECT customer_id FROM cdp.events FINAL WHERE message_id = {m:String}", {"m": SCENARIO[2]["message_id"]})
    return found["customer_id"]


def row(platform: Platform, table: str, customer_id: str) -> dict:
    (found,) = platform.warehouse.query(f"SELECT * FROM cdp.{table} FINAL WHERE customer_id = {{c:String}}", {"c": customer_id})
    return found


def test_identity_family_stays_apart_and_li_is_one_person(shared: Platform):
    dad, mum, till = customer(shared, "u-dad"), customer(shared, "u-mum"), till_buyer(shared)
    assert len({dad, mum, till}) == 3
    assert customer(shared, "family@example.com") == dad  # the email stays with the first to use it
    (refusal,) = shared.warehouse.query("SELECT * FROM cdp.identity_refusals FINAL")
    assert (refusal["customer_id"], refusal["other_customer"], refusal["identifier"]) == (mum, dad, "email:family@example.com")
    assert "2 user_id identifiers (limit 1)" in refusal["reason"]
    li = customer(shared, "li-dev")
    assert customer(shared, "wechat:li_w") == customer(shared, "+8613900000009") == customer(shared, "li@example.com") == li
    assert shared.warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL") == [{"n": 5}]
    explained = explain(shared.warehouse, li, shared.settings.identity)
    assert [(s["event"].split(" ")[0], s["joined"]) for s in explained["identifiers"]] == [
        ("web/" + SCENARIO[3]["message_id"], ["anonymous_id:li-dev"]),
        ("web/" + SCENARIO[4]["message_id"], ["email:li@example.com"]),
        ("wechat/" + SCENARIO[5]["message_id"], ["phone:+8613900000009", "social:wechat:li_w"]),
    ]
    (merge,) = explained["merges"]
    assert merge["position"] == 7 and "phone, email" in merge["reason"]


def test_computed_traits(shared: Platform):
    t = row(shared, "customer_traits", customer(shared, "li-dev"))
    assert t["preferred_channel"] == "survey"  # 6 survey answers vs 4 service, 3 sales, 2 website (identify is not an interaction), 1 social
    assert t["events_by_type"]["identified"] == 2 and t["events_by_type"]["order_placed"] == 2
    assert t["last_activity_by_channel"] == {
        "website": "2025-10-10 10:00:00.000", "social": "2025-09-02 20:00:00.000", "sales": "2025-09-21 10:00:00.000",
        "service": "2025-09-27 02:00:00.000", "survey": "2025-10-07 10:00:00.000",
    }
    assert t["consent"] == {"email": "false"} and t["account_ids"] == ["acme"]


def test_value(shared: Platform):
    v = row(shared, "customer_value", customer(shared, "li-dev"))
    # last purchase 72 days before as_of: R 4; 2 orders: F 2; net 1,100: M 4
    assert (v["recency_score"], v["frequency_score"], v["monetary_score"], v["rfm"]) == (4, 2, 4, "424")
    # AOV 550 × (2 orders over a span below one year → 2 a year) × 3 years × margin 1
    assert (v["clv"], v["tier"], v["repurchase_count"], v["purchase_amount"], v["net_amount"], v["referral_count"]) == (3300, "ordinary", 1, 1200, 1100, 1)


def test_loyalty(shared: Platform):
    loyalty = row(shared, "customer_loyalty", customer(shared, "li-dev"))
    assert (loyalty["points"], loyalty["points_refunded"], loyalty["points_from_referrals"], loyalty["tier"], loyalty["next_tier"], loyalty["to_next_tier"]) == (
        1200, 100, 100, "silver", "gold", 3800,
    )


def test_satisfaction(shared: Platform):
    s = row(shared, "customer_satisfaction", customer(shared, "li-dev"))
    assert (s["nps_answers"], s["last_nps"], s["nps_category"], s["nps"]) == (2, 6, "detractor", 0)
    assert (s["csat_average"], s["csat_satisfied_pct"], s["last_csi"]) == (4, 50, 7.5)
    assert (s["texts_neutral"], s["texts_negative"], s["last_sentiment"], s["last_sentiment_terms"]) == (1, 1, "negative", ["太差"])
    per_month = shared.warehouse.query(
        "SELECT toStartOfMonth(at) AS m, 100 * (countIf(category = 'promoter') - countIf(category = 'detractor')) / count() AS nps "
        "FROM cdp.survey_answers FINAL WHERE kind = 'nps' GROUP BY m ORDER BY m"
    )
    assert [(r["m"], r["nps"]) for r in per_month] == [("2025-09-01", 100), ("2025-10-01", -100)]


def test_service(shared: Platform):
    li = customer(shared, "li-dev")
    t = row(shared, "tickets", li)
    assert (t["response_sla"], t["resolution_sla"], t["response_minutes"], t["resolution_minutes"], t["escalations"], t["status"]) == (
        "breached", "met", 1800, 2400, 1, "resolved",
    )
    s = row(shared, "customer_service", li)
    assert (s["tickets"], s["complaints"], s["open_tickets"], s["response_breaches"], s["sla_state"]) == (1, 1, 0, 1, "ok")


def test_churn_risk(shared: Platform):
    risk = row(shared, "churn_risk", customer(shared, "li-dev"))
    # usual interval 17 days → at risk 34 days after 09-20; complaint 67 days ago; NPS 6; negative text 55 days ago;
    # last interaction 10-08 is 54 days ago (quiet only after 60)
    assert (risk["score"], risk["level"]) == (75, "high")
    assert risk["reasons"] == [
        "no purchase since 2025-09-20 (at risk after 34 days) (+30)",
        "complaint in the last 90 days (+10)",
        "detractor (NPS 6) (+25)",
        "negative feedback in the last 90 days (+10)",
    ]


def test_tags_now_and_their_history(shared: Platform):
    li = customer(shared, "li-dev")
    assert row(shared, "customer_tags", li)["tags"] == [
        "active", "complainer", "detractor", "enterprise", "female", "negative_voice", "referrer", "repeat_buyer", "spend_medium", "tier_ordinary", "valid",
    ]
    history = shared.warehouse.query(
        "SELECT tag, change, at FROM cdp.tag_changes FINAL WHERE customer_id = {c:String} AND tag IN ('promoter', 'one_time_buyer', 'spend_low') ORDER BY at, tag",
        {"c": li},
    )
    assert [(h["tag"], h["change"], h["at"][:10]) for h in history] == [
        ("one_time_buyer", "added", "2025-09-03"), ("spend_low", "added", "2025-09-03"),
        ("one_time_buyer", "removed", "2025-09-20"), ("spend_low", "removed", "2025-09-20"),
        ("promoter", "added", "2025-09-28"), ("promoter", "removed", "2025-10-05"),
    ]
    assert row(shared, "customer_tags", till_buyer(shared))["tags"] == ["invalid", "one_time_buyer", "spend_low", "tier_ordinary"]


def test_profile_as_of_a_past_date(shared: Platform):
    li = customer(shared, "li-dev")
    (then,) = profile_as_of(shared.warehouse, li, "2025-09-10", shared.settings)
    assert (then["orders"], then["revenue"], then["lifecycle_stage"]) == (1, 300, "new")
    assert then["customer_tags"][0]["tags"] == ["active", "enterprise", "female", "one_time_buyer", "spend_low", "tier_ordinary", "valid"]
    assert "churn_risk" not in then or then["churn_risk"][0]["score"] == 0


def test_undo_a_merge_by_configuration_and_rebuild(processed: Platform, tmp_path):
    config = tmp_path / "undo.toml"
    config.write_text('[identity]\nblocked_values = ["phone:+8613900000009"]\n')
    settings = load_settings(config, data_dir=processed.settings.data_dir)
    processed.close()
    with Platform(settings) as platform:
        assert rebuild(platform, []) == len(SCENARIO)
        assert platform.warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL") == [{"n": 6}]  # WeChat Li is on her own again
        assert platform.warehouse.query("SELECT count() AS n FROM cdp.customer_merges FINAL") == [{"n": 0}]


def transitions(platform: Platform, customer_id: str) -> list[tuple]:
    found = platform.warehouse.query(
        "SELECT at, from_stage, to_stage, cause FROM cdp.lifecycle_transitions FINAL WHERE customer_id = {c:String} ORDER BY at, to_stage", {"c": customer_id}
    )
    return [(t["at"], t["from_stage"], t["to_stage"], t["cause"]) for t in found]


def test_every_known_customer_has_a_stage_an_identify_alone_makes_a_prospect(shared: Platform):
    # Dad and Mum only ever sent an identify call: known since then, no purchase → prospect (DOMAIN §7)
    for who, at in (("u-dad", "2025-03-01 10:00:00.000"), ("u-mum", "2025-03-01 11:00:00.000")):
        c = customer(shared, who)
        p = row(shared, "profiles", c)
        assert (p["lifecycle_stage"], p["lifecycle_since"], p["lifecycle_cause"]) == ("prospect", at, "known, no purchase yet (first event: identified)")
        assert transitions(shared, c) == [(at, "", "prospect", "known, no purchase yet (first event: identified)")]
    # Li's first event is a page view (09-01 09:00): prospect from then, new at her first order
    assert transitions(shared, customer(shared, "li-dev"))[:2] == [
        ("2025-09-01 09:00:00.000", "", "prospect", "known, no purchase yet (first event: page_viewed)"),
        ("2025-09-03 10:00:00.000", "prospect", "new", "first purchase"),
    ]
    # the till buyer's first event is a purchase: new at once, no prospect moment
    assert transitions(shared, till_buyer(shared))[0] == ("2025-03-02 12:00:00.000", "", "new", "first purchase")
    assert shared.warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL WHERE lifecycle_stage = ''") == [{"n": 0}]


def test_an_identified_prospect_becomes_new_on_its_first_order_and_a_rebuild_agrees(platform: Platform):
    sam = {"email": "sam@example.com"}
    first = [event("identified", "2025-05-01T08:00:00Z", anonymous_id="sam-dev", traits={"name": "Sam"}, **sam)]
    later = [
        event("identified", "2025-05-03T08:00:00Z", traits={"consent_email": True}, **sam),
        order("2025-05-10T12:00:00Z", 80, "sam-1", **sam),
        event("identified", "2025-04-20T08:00:00Z", anonymous_id="sam-dev", **sam),  # arrives late: known earlier than first thought
    ]
    import_lines((orjson.dumps(e) for e in first), platform, "scenario")
    assert platform.runner.run() == 1
    sam_id = customer(platform, "sam@example.com")
    assert row(platform, "profiles", sam_id)["lifecycle_stage"] == "prospect"
    assert transitions(platform, sam_id) == [("2025-05-01 08:00:00.000", "", "prospect", "known, no purchase yet (first event: identified)")]
    import_lines((orjson.dumps(e) for e in later), platform, "scenario")
    assert platform.runner.run() == 3
    expected = [
        ("2025-04-20 08:00:00.000", "", "prospect", "known, no purchase yet (first event: identified)"),
        ("2025-05-10 12:00:00.000", "prospect", "new", "first purchase"),
    ]
    assert transitions(platform, sam_id) == expected  # the 05-01 prospect transition is retracted
    profile = row(platform, "profiles", sam_id)
    assert (profile["lifecycle_stage"], profile["lifecycle_since"]) == ("new", "2025-05-10 12:00:00.000")
    assert rebuild(platform, []) == 4
    assert transitions(platform, sam_id) == expected
    rebuilt = row(platform, "profiles", sam_id)
    assert {k: rebuilt[k] for k in ("lifecycle_stage", "lifecycle_since", "lifecycle_cause")} == {k: profile[k] for k in ("lifecycle_stage", "lifecycle_since", "lifecycle_cause")}
