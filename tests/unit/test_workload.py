from collections import Counter, defaultdict
import hashlib
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from statistics import mean, median

import orjson
import pytest

from cdp.workload import PLACEHOLDER_PHONE, generate
from schemas import PAYLOAD_BY_EVENT_TYPE, SOURCE_KINDS, parse_envelope
from schemas.payloads.consent import CONSENT_EVENT_TYPES
from schemas.payloads.messages import OUTBOUND_EVENT_TYPES
from schemas.payloads.privacy import CustomerErased
from schemas.payloads.sales import PointsRedeemed
from schemas.payloads.social import CodeScanned, MenuClicked, Unfollowed

PINNED_SHA256 = "c1406fc801b7477d683780d2b60b2195384c1ab1d2d01595280a5f1889c4ed8a"  # generate(200, seed=7, end=date(2026, 12, 6)), one event a line


def person(event: dict) -> str:
    """The customer index behind an event (the ground truth), from its message id."""
    return event["message_id"].split("-")[1]


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return list(generate(2000, seed=11))


def test_a_sample_validates_and_covers_every_event_type(events: list[dict]):
    for event in events[::10] + events[:1000]:
        parsed = parse_envelope(event)
        assert parsed.received_at is None
    not_generated = {
        CustomerErased.event_type,  # written by the platform when forgetting
        *OUTBOUND_EVENT_TYPES,  # written by the platform when delivering
        *(p.event_type for p in (Unfollowed, CodeScanned, MenuClicked, PointsRedeemed)),  # WeChat Official Account pushes and loyalty redemptions, added after the demo's stream was pinned
    }
    assert {e["event_type"] for e in events} == set(PAYLOAD_BY_EVENT_TYPE) - not_generated
    assert {e["source_kind"] for e in events} == set(SOURCE_KINDS)


def test_same_arguments_give_the_same_bytes():
    def run(seed: int, end: date = date(2026, 12, 6)) -> bytes:
        return b"\n".join(orjson.dumps(e) for e in generate(300, seed=seed, end=end))

    assert run(3) == run(3)
    assert run(3) != run(4)
    assert run(3) != run(3, date(2026, 12, 7))


def test_a_fixed_end_date_pins_the_workload():
    """The bytes for a given end date never change: a change to the generator shows up here."""
    workload = b"\n".join(orjson.dumps(e) for e in generate(200, seed=7, end=date(2026, 12, 6)))
    assert hashlib.sha256(workload).hexdigest() == PINNED_SHA256


def test_message_ids_are_unique(events: list[dict]):
    assert len({e["message_id"] for e in events}) == len(events)


def test_streaming_starts_at_once_for_a_huge_population():
    first = list(islice(generate(10**9), 10))
    assert len(first) == 10


def test_volume_and_a_skewed_activity_distribution():
    per_customer = Counter(person(e) for e in generate(10_000))
    total = sum(per_customer.values())
    assert total >= 100_000
    counts = list(per_customer.values())
    assert median(counts) < mean(counts) and max(counts) > 10 * median(counts)


def test_time_stays_within_the_period_before_the_end_day():
    end, days = date(2024, 3, 1), 90
    midnight = datetime.combine(end, time(), UTC)
    times = [parse_envelope(e).occurred_at for e in generate(300, end=end, days=days)]
    assert midnight - timedelta(days=days) <= min(times) and max(times) < midnight
    assert max(times) - min(times) > timedelta(days=days - 5)


def test_by_default_the_period_ends_today():
    """The demo's customers are judged as of now: its last events are from the last days, none from the future."""
    today = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    times = [parse_envelope(e).occurred_at for e in generate(300)]
    assert today - timedelta(days=2) < max(times) < today


def test_identities_are_fragmented_across_channels(events: list[dict]):
    social_only, handle_and_phone, anonymous_and_email = set(), set(), set()
    for e in events:
        ids = e["identifiers"]
        if set(ids) == {"social"}:
            social_only.add(person(e))
        if ids.get("social") and ids.get("phone"):
            handle_and_phone.add(person(e))
        if ids.get("anonymous_id") and ids.get("email"):
            anonymous_and_email.add(person(e))
    assert len(social_only - handle_and_phone) > 50  # handles never linked to anything else
    assert len(handle_and_phone) > 50
    assert len(anonymous_and_email) > 500


def test_over_merge_traps_are_present(events: list[dict]):
    people_by_email, people_by_phone = defaultdict(set), defaultdict(set)
    for e in events:
        ids = e["identifiers"]
        if ids.get("email"):
            people_by_email[ids["email"]].add(person(e))
        if ids.get("phone"):
            people_by_phone[ids["phone"]].add(person(e))
    assert sum(len(people) > 1 for people in people_by_email.values()) > 5  # households
    assert len(people_by_phone[PLACEHOLDER_PHONE]) > 2
    assert all(len(people) == 1 for phone, people in people_by_phone.items() if phone != PLACEHOLDER_PHONE)


def test_behaviour_is_plausible(events: list[dict]):
    by_type = defaultdict(list)
    for e in events:
        by_type[e["event_type"]].append(e)
    nps = Counter(e["properties"]["score"] for e in by_type["nps_answered"])
    assert sum(nps[s] for s in (9, 10)) > sum(nps[s] for s in range(7)) > 0
    assert all(e["traits"]["name"] and e["traits"]["city"] for e in by_type["identified"])
    assert any(not e["traits"]["name"].isascii() for e in by_type["identified"])
    assert {e["properties"]["currency"] for e in by_type["order_placed"]} == {"CNY", "USD"}
    currencies = defaultdict(set)
    for e in by_type["order_placed"] + by_type["store_purchase_made"]:
        currencies[person(e)].add(e["properties"]["currency"])
    assert all(len(c) == 1 for c in currencies.values())
    complaints = [e for e in by_type["ticket_opened"] if e["properties"]["is_complaint"]]
    assert 0 < len(complaints) < len(by_type["ticket_opened"])
    assert by_type["ticket_escalated"] and by_type["ticket_reopened"]
    assert any(e["identifiers"].get("account_id") for e in by_type["order_placed"])


def test_consent_arrives_from_every_channel_at_plausible_rates(events: list[dict]):
    consent = [e for e in events if e["event_type"] in CONSENT_EVENT_TYPES]
    assert {e["source_kind"] for e in consent} >= {"website", "sales", "service", "survey"}
    signed_up = sum(e["event_type"] == "signed_up" for e in events)
    email_optins = sum(e["event_type"] == "consent_given" and e["properties"]["purpose"] == "email_marketing" and e["source_name"] == "web" for e in events)
    assert 0.4 * signed_up < email_optins < 0.7 * signed_up
    withdrawn = sum(e["event_type"] == "consent_withdrawn" for e in consent)
    suppressed = sum(e["event_type"] == "identifier_suppressed" for e in consent)
    assert 0 < suppressed < withdrawn < len(consent) // 3
    assert any("expires_at" in e["properties"] for e in consent)
