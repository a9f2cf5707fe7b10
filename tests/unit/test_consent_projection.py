"""Consent per purpose as intervals in event time, withdrawal, re-consent, expiry, late events, merges,
and the suppression list, through the whole pipeline (``Replay``: what the warehouse shows with FINAL)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from schemas import SOURCE_KINDS, parse_envelope
from schemas.payloads.consent import PURPOSES
from tests.events import event, order

PIPELINE = Pipeline(ProjectionRules())
OPEN = datetime(2100, 1, 1, tzinfo=UTC)


def given(at: str, purpose: str = "email_marketing", **ids) -> dict:
    return event("consent_given", at, properties={"purpose": purpose, "channel": "signup_form"}, **ids)


def withdrawn(at: str, purpose: str = "email_marketing", **ids) -> dict:
    return event("consent_withdrawn", at, properties={"purpose": purpose}, **ids)


def run(*envelopes: dict, batch_size: int = 100) -> dict[str, list[dict]]:
    tps = [Touchpoint(p, parse_envelope(e).model_dump(mode="json")) for p, e in enumerate(envelopes, start=1)]
    return Replay(PIPELINE).run(tps, batch_size).tables(("version",))


def t(text: str) -> datetime:
    return datetime.fromisoformat(text if "T" in text else text + "T12:00:00+00:00")


def history(tables: dict, purpose: str = "email_marketing") -> list[tuple]:
    rows = sorted((r for r in tables["consent_changes"] if r["purpose"] == purpose), key=lambda r: r["valid_from"])
    return [(r["valid_from"], r["valid_to"], r["granted"], r["cause"]) for r in rows]


def test_consent_withdrawal_and_re_consent_are_adjoining_intervals():
    tables = run(given("2025-01-01", email="a@example.com"), withdrawn("2025-03-01", email="a@example.com"), given("2025-06-01", email="a@example.com"))
    assert history(tables) == [
        (t("2025-01-01"), t("2025-03-01"), 1, "consent_given"),
        (t("2025-03-01"), t("2025-06-01"), 0, "consent_withdrawn"),
        (t("2025-06-01"), OPEN, 1, "consent_given"),
    ]
    [current] = tables["customer_consent"]
    assert (current["purpose"], current["granted"], current["decided_at"], current["channel"]) == ("email_marketing", 1, t("2025-06-01"), "signup_form")


def test_a_late_event_takes_its_place_in_event_time():
    in_order = run(given("2025-01-01", email="a@example.com"), withdrawn("2025-03-01", email="a@example.com"))
    late = run(withdrawn("2025-03-01", email="a@example.com"), given("2025-01-01", email="a@example.com"), batch_size=1)
    assert history(late) == history(in_order) == [(t("2025-01-01"), t("2025-03-01"), 1, "consent_given"), (t("2025-03-01"), OPEN, 0, "consent_withdrawn")]
    assert [r["granted"] for r in late["customer_consent"]] == [0]  # the older consent arriving late does not overturn the withdrawal


def test_purposes_are_independent_and_a_preferences_update_decides_several():
    prefs = event("consent_preferences_updated", "2025-02-01", properties={"preferences": {"analytics": True, "sms_marketing": False}}, email="a@example.com")
    tables = run(given("2025-01-01", "sms_marketing", email="a@example.com"), prefs)
    assert history(tables, "sms_marketing") == [(t("2025-01-01"), t("2025-02-01"), 1, "consent_given"), (t("2025-02-01"), OPEN, 0, "consent_preferences_updated")]
    assert history(tables, "analytics") == [(t("2025-02-01"), OPEN, 1, "consent_preferences_updated")]
    assert sorted((r["purpose"], r["granted"]) for r in tables["customer_consent"]) == [("analytics", 1), ("sms_marketing", 0)]


def test_an_expiring_consent_is_followed_by_an_expired_interval():
    lapsing = event("consent_given", "2025-01-01", properties={"purpose": "phone_marketing", "expires_at": "2025-07-01T00:00:00Z"}, phone="+8613900000001")
    tables = run(lapsing, given("2025-09-01", "phone_marketing", phone="+8613900000001"))
    assert history(tables, "phone_marketing") == [
        (t("2025-01-01"), t("2025-07-01T00:00:00+00:00"), 1, "consent_given"),
        (t("2025-07-01T00:00:00+00:00"), t("2025-09-01"), 0, "expired"),
        (t("2025-09-01"), OPEN, 1, "consent_given"),
    ]


def test_a_merge_combines_both_histories_in_event_time():
    tables = run(
        given("2025-01-01", anonymous_id="dev-1"),  # on the web, anonymous
        withdrawn("2025-02-01", email="a@example.com"),  # by email: another customer, for now
        given("2025-03-01", anonymous_id="dev-1"),
        event("identified", "2025-04-01", anonymous_id="dev-1", email="a@example.com"),  # the same person: merged
    )
    assert len(tables["profiles"]) == 1
    customer = tables["profiles"][0]["customer_id"]
    assert {r["customer_id"] for r in tables["consent_changes"]} == {r["customer_id"] for r in tables["customer_consent"]} == {customer}
    assert history(tables) == [
        (t("2025-01-01"), t("2025-02-01"), 1, "consent_given"),
        (t("2025-02-01"), t("2025-03-01"), 0, "consent_withdrawn"),
        (t("2025-03-01"), OPEN, 1, "consent_given"),
    ]
    assert [(r["granted"], r["decided_at"]) for r in tables["customer_consent"]] == [(1, t("2025-03-01"))]


def test_suppression_is_per_identifier_and_purpose_and_the_latest_wins():
    bounce = event("identifier_suppressed", "2025-05-01", properties={"purpose": "email_marketing", "reason": "bounce"}, email="a@example.com", user_id="u1")
    lifted = event("identifier_unsuppressed", "2025-06-01", properties={"purpose": "email_marketing"}, email="a@example.com")
    stale = event("identifier_suppressed", "2025-04-01", properties={"purpose": "email_marketing", "reason": "complaint"}, email="a@example.com")
    everything = event("identifier_suppressed", "2025-07-01", properties={"purpose": "all", "reason": "operator", "note": "GDPR request 42"}, phone="+8613900000001", user_id="u1")
    tables = run(bounce, lifted, stale, everything)
    found = sorted((r["identifier"], r["purpose"], r["suppressed"], r["reason"]) for r in tables["suppressions"])
    assert found == [
        ("email:a@example.com", "email_marketing", 0, "operator"),
        ("phone:+8613900000001", "all", 1, "operator"),
        ("user_id:u1", "all", 1, "operator"),
        ("user_id:u1", "email_marketing", 1, "bounce"),
    ]


def test_consent_events_are_not_customer_activity():
    bought = order("2025-01-01", 50, "o1", email="a@example.com")
    visited = run(bought, event("page_viewed", "2025-08-01", email="a@example.com"))
    consented = run(bought, given("2025-08-01", email="a@example.com"))
    assert [p["lifecycle_stage"] for p in visited["profiles"]] != ["churned"]
    assert [p["lifecycle_stage"] for p in consented["profiles"]] == ["churned"]  # 212 days without an interaction


def random_consent_log(seed: int, count: int) -> list[Touchpoint]:
    """Consent, withdrawals, expiring consent, suppressions and identity links among 30 people, with late events."""
    rng = random.Random(seed)
    people = [{"anonymous_id": f"a{i}", "email": f"p{i}@example.com", "phone": f"+86139{i:08d}"} for i in range(30)]
    envelopes = []
    for n in range(count):
        person = rng.choice(people)
        ids = {k: v for k, v in person.items() if rng.random() < 0.5} or {"anonymous_id": person["anonymous_id"]}
        at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 400))
        kind = rng.choice(["consent_given", "consent_withdrawn", "consent_preferences_updated", "identifier_suppressed", "identifier_unsuppressed", "identified"])
        purpose = rng.choice(PURPOSES[:3])
        properties = {
            "consent_given": {"purpose": purpose, **({"expires_at": (at + timedelta(days=rng.randrange(1, 200))).isoformat()} if rng.random() < 0.3 else {})},
            "consent_withdrawn": {"purpose": purpose},
            "consent_preferences_updated": {"preferences": {p: rng.random() < 0.5 for p in rng.sample(PURPOSES, 2)}},
            "identifier_suppressed": {"purpose": rng.choice([purpose, "all"]), "reason": rng.choice(["bounce", "complaint", "unsubscribe"])},
            "identifier_unsuppressed": {"purpose": purpose},
            "identified": {},
        }[kind]
        envelopes.append(event(kind, at.isoformat(), message_id=f"m{n}", properties=properties, **ids) | ({} if kind == "identified" else {"source_kind": rng.choice(SOURCE_KINDS)}))
    envelopes.sort(key=lambda e: e["occurred_at"])
    for _ in range(count // 5):  # late events
        i, j = rng.randrange(count), rng.randrange(count)
        envelopes[i], envelopes[j] = envelopes[j], envelopes[i]
    return [Touchpoint(p, parse_envelope(e).model_dump(mode="json")) for p, e in enumerate(envelopes, start=1)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuild_gives_the_consent_incremental_processing_gave(seed: int):
    log = random_consent_log(seed, 1500)
    rebuilt = Replay(PIPELINE).run(log, len(log)).tables(("version", "as_of"))
    rng = random.Random(seed)
    incremental, start = Replay(PIPELINE), 0
    while start < len(log):
        size = rng.randrange(1, 200)
        incremental.batch(log[start : start + size], commit=False)  # a crash before commit changes nothing
        incremental.batch(log[start : start + size])
        start += size
    got = incremental.tables(("version", "as_of"))
    assert rebuilt["customer_merges"]
    assert len(rebuilt["consent_changes"]) > 300 and len(rebuilt["suppressions"]) > 50
    for table in ("customer_consent", "consent_changes", "suppressions", "profiles"):
        assert got[table] == rebuilt[table], table
