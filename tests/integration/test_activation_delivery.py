"""Delivery against real receivers on loopback: a webhook endpoint that fails and stalls at random,
a real SMTP server, consent and suppression checked at send time, outbound addresses refused,
audience syncs that send only changes, and every outcome recorded as an event in the log."""

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest

from cdp.activation.dispatcher import Dispatcher
from cdp.config import load_settings
from cdp.errors import CdpError, SegmentInvalid
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.activation import ActivationService
from cdp.services.segments import SegmentService
from ingestion.validation import validate
from projections.actions import Action, derive_action_id
from tests.events import event
from tests.receivers import SmtpReceiver, WebhookReceiver

SECRET = "a-webhook-signing-secret-of-some-length"
CUSTOMERS = {  # email → (traits, consent events)
    "ann@example.com": {"language": "de", "name": "Ann", "tier": "gold"},
    "bob@example.com": {"language": "en", "name": "Bob", "tier": "gold"},
    "cat@example.com": {"language": "en", "name": "Cat", "tier": "gold"},  # never consents
    "dan@example.com": {"language": "en", "name": "Dan", "tier": "basic"},  # consents, then bounces
}


@pytest.fixture
def platform(tmp_path, monkeypatch) -> Iterator[Platform]:
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(data_dir=tmp_path / "data", activation={"backoff_seconds": 0.05, "max_backoff_seconds": 0.2, "timeout_seconds": 0.5, "max_attempts": 30, "breaker_failures": 1000, "rate_per_second": 1000})
    with Platform(settings) as p:
        log = [event("identified", "2025-01-01", traits=traits, email=email) for email, traits in CUSTOMERS.items()]
        log += [event("consent_given", "2025-01-02", properties={"purpose": "email_marketing"}, email=e) for e in ("ann@example.com", "bob@example.com", "dan@example.com")]
        log += [event("identifier_suppressed", "2025-01-03", properties={"purpose": "email_marketing", "reason": "bounce"}, email="dan@example.com")]
        _append(p, log)
        yield p


def _append(platform: Platform, events: list[dict]) -> None:
    platform.append([validate(e, datetime.now(UTC)) for e in events])
    platform.runner.run()


def _customer(platform: Platform, email: str) -> str:
    rows = platform.warehouse.query("SELECT customer_id FROM cdp.profiles FINAL WHERE has(emails, {e:String})", {"e": email})
    return rows[0]["customer_id"]


def _actions(platform: Platform, emails: list[str], count: int, destination: str, template: str = "", purpose: str = "email_marketing") -> list[Action]:
    made = []
    for email in emails:
        customer = _customer(platform, email)
        for n in range(count):
            cause = f"p:{n}"
            made.append(Action(derive_action_id("trigger:test", customer, cause), "trigger:test", customer, destination, template, "email", purpose, cause, datetime(2025, 1, 5, tzinfo=UTC), None, {"n": n}))
    return made


def _deliver_all(platform: Platform, bound_seconds: float = 120) -> None:
    """Rounds until nothing is pending or being sent (retries are due a moment later)."""
    dispatcher, deadline = Dispatcher(platform), time.monotonic() + bound_seconds
    while (counts := platform.outbox.counts())["pending"] + counts["sending"]:
        assert time.monotonic() < deadline, f"still undelivered: {counts}"
        if not dispatcher.run_once().claimed:
            time.sleep(0.05)


def _event_counts(platform: Platform) -> dict[str, int]:
    platform.runner.run()
    rows = platform.warehouse.query("SELECT event_type, count() AS n FROM cdp.events WHERE event_type LIKE 'outbound_message_%' GROUP BY event_type")
    return {r["event_type"]: r["n"] for r in rows}


def test_a_flaky_receiver_gets_each_action_once_by_idempotency_key_with_valid_signatures(platform):
    service = ActivationService(platform, operator())
    with WebhookReceiver(SECRET, fail_rate=0.25, stall_rate=0.1, stall_seconds=1.0) as receiver:
        service.add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
        actions = _actions(platform, ["ann@example.com", "bob@example.com"], 30, "hook")
        assert platform.outbox.add(actions) == 60
        assert platform.outbox.add(actions) == 0  # derived again (a replay, a rebuild): nothing new
        _deliver_all(platform)
    received = receiver.received
    assert received.failed and received.stalled, "the receiver was meant to fail and stall some requests"
    assert received.bad_signatures == []
    assert set(received.accepted) == {a.action_id for a in actions}
    assert {key: body["action_id"] for key, body in received.accepted.items()} == {a.action_id: a.action_id for a in actions}
    assert platform.outbox.counts()["delivered"] == 60
    assert _event_counts(platform) == {"outbound_message_sent": 60, "outbound_message_delivered": 60}
    timeline = service.deliveries("ann@example.com", "delivered")
    assert len(timeline) == 30 and all(row["destination"] == "hook" for row in timeline)
    retried = [a.action_id for a in actions if any(x["outcome"] == "retry" for x in platform.outbox.attempts(a.action_id))]
    assert retried, "some actions were retried after a 500 or a timeout"


def test_a_real_smtp_server_receives_each_email_in_the_customers_language(platform):
    service = ActivationService(platform, operator())
    templates = {"welcome": {"en": {"subject": "Welcome, {{ customer.name }}", "body": "Hello {{ customer.name }} ({{ payload.n }})"},
                             "de": {"subject": "Willkommen, {{ customer.name }}", "body": "Hallo {{ customer.name }} ({{ payload.n }})"}}}  # fmt: skip
    with SmtpReceiver() as smtp:
        service.add_destination("mail", "smtp", {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "care@shop.example", "templates": templates, "allow_private": True}, None)
        platform.outbox.add(_actions(platform, ["ann@example.com", "bob@example.com"], 1, "mail", "welcome"))
        _deliver_all(platform)
    got = sorted((m["To"], m["Subject"], m.get_payload().strip()) for m in smtp.messages)
    assert got == [("ann@example.com", "Willkommen, Ann", "Hallo Ann (0)"), ("bob@example.com", "Welcome, Bob", "Hello Bob (0)")]
    assert platform.outbox.counts()["sent"] == 2  # accepted by the server; delivery is the mail system's to confirm
    assert _event_counts(platform) == {"outbound_message_sent": 2}


def test_consent_withdrawn_or_a_suppression_before_dispatch_stops_the_send(platform):
    service = ActivationService(platform, operator())
    with WebhookReceiver(SECRET) as receiver:
        service.add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
        platform.outbox.add(_actions(platform, ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"], 1, "hook"))
        _append(platform, [event("consent_withdrawn", "2025-02-01", properties={"purpose": "email_marketing"}, email="ann@example.com")])  # after the actions were queued
        _deliver_all(platform)
    assert [body["customer_id"] for body in receiver.received.accepted.values()] == [_customer(platform, "bob@example.com")]
    skipped = {row["customer_id"]: row["last_error"] for row in service.deliveries(status="skipped")}
    assert skipped == {_customer(platform, "ann@example.com"): "no_consent", _customer(platform, "cat@example.com"): "no_consent", _customer(platform, "dan@example.com"): "suppressed"}
    platform.runner.run()
    reasons = platform.warehouse.query("SELECT JSONExtractString(properties, 'reason') AS reason, count() AS n FROM cdp.events WHERE event_type = 'outbound_message_failed' GROUP BY reason ORDER BY reason")
    assert reasons == [{"reason": "no_consent", "n": 2}, {"reason": "suppressed", "n": 1}]


def test_a_link_local_or_metadata_url_is_refused_naming_the_field(platform):
    service = ActivationService(platform, operator())
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://metadata.google.internal/"):
        with pytest.raises(CdpError, match=r"settings\.url: .*(link-local|metadata)"):
            service.add_destination("meta", "webhook", {"url": url, "allow_private": True}, SECRET)
    with pytest.raises(CdpError, match=r"settings\.url: 127\.0\.0\.1 is a loopback or private address"):
        service.add_destination("local", "webhook", {"url": "http://127.0.0.1:9/"}, SECRET)
    assert service.destinations() == []


def test_a_host_name_that_resolves_to_a_private_address_is_refused_at_send_time(platform):
    service = ActivationService(platform, operator())
    with WebhookReceiver(SECRET) as receiver:
        service.add_destination("named", "webhook", {"url": receiver.url.replace("127.0.0.1", "localhost")}, SECRET)  # a name: checked when sent
        platform.outbox.add(_actions(platform, ["bob@example.com"], 1, "named"))
        _deliver_all(platform)
    assert receiver.received.requests == 0
    [dead] = service.deliveries(status="dead")
    assert dead["last_error"].startswith("permanent_error: settings.url: ") and "loopback or private" in dead["last_error"]
    assert SECRET not in dead["last_error"]


def test_an_audience_resync_after_no_change_sends_nothing_and_a_change_sends_only_the_change(platform):
    service = ActivationService(platform, operator())
    SegmentService(platform, operator()).create({"name": "vips", "where": {"trait": "tier", "op": "=", "value": "gold"}})
    with WebhookReceiver(SECRET) as receiver:
        service.add_destination("crm", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
        service.bind("vip-crm", "vips", "crm", "email_marketing", ["emails", "lifecycle_stage"])
        preview = service.dry_run("vip-crm")
        assert sorted((r["change"], r["would_send"], r["reason"]) for r in preview["actions"]) == [("entered", False, "no_consent"), ("entered", True, ""), ("entered", True, "")]
        assert receiver.received.requests == 0 and platform.outbox.counts()["pending"] == 0  # a dry run sends and keeps nothing
        assert service.sync("vip-crm")["actions_added"] == 3
        _deliver_all(platform)
        assert len(receiver.received.accepted) == 2  # cat never consented
        assert service.sync("vip-crm")["actions_added"] == 0
        assert service.dry_run("vip-crm")["actions"] == []
        _append(platform, [event("identified", "2025-03-01", traits={"tier": "basic"}, email="bob@example.com")])
        assert service.sync("vip-crm") | {"position": 0} == {"audience": "vip-crm", "position": 0, "entered": 0, "left": 1, "actions_added": 1}
        _deliver_all(platform)
    bodies = sorted((b["payload"]["change"], b["customer_id"]) for b in receiver.received.accepted.values())
    ann, bob = _customer(platform, "ann@example.com"), _customer(platform, "bob@example.com")
    assert bodies == sorted([("entered", ann), ("entered", bob), ("left", bob)])
    entered = next(b for b in receiver.received.accepted.values() if b["customer_id"] == ann)
    assert entered["payload"]["fields"]["emails"] == ["ann@example.com"]


def test_an_audience_whose_segment_is_no_longer_valid_is_not_synced_as_empty(platform):
    """A segment naming a tag no rule computes any more (a rule taken out of cdp.toml; here the store
    edited by hand) would evaluate to nobody, and its audience's sync would send every member "left":
    the sync is refused naming the problem, and a scheduled one is reported while the dispatcher goes on."""
    service = ActivationService(platform, operator())
    SegmentService(platform, operator()).create({"name": "vips", "where": {"trait": "tier", "op": "=", "value": "gold"}})
    service.add_destination("crm", "webhook", {"url": "https://crm.example.com/hook"}, SECRET)
    service.bind("vip-crm", "vips", "crm", "email_marketing", ["emails"], every_minutes=1)
    assert service.sync("vip-crm")["actions_added"] == 3
    with sqlite3.connect(platform.settings.segments_path) as db:
        db.execute("UPDATE segment_versions SET definition = ? WHERE name = 'vips'", (orjson.dumps({"name": "vips", "where": {"tag": "gold-tier"}}),))
    db.close()
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.tag: no tag 'gold-tier'"):
        service.sync("vip-crm")
    with sqlite3.connect(platform.settings.outbox_path) as db:
        db.execute("UPDATE bindings SET last_sync_at = 0")  # its next scheduled sync due
    db.close()
    errors: list[str] = []
    assert service.sync_due(errors.append) == 0
    assert errors == ["audience vip-crm: invalid segment: where.tag: no tag 'gold-tier' (known: " + errors[0].partition("(known: ")[2]]
    assert platform.outbox.counts()["pending"] == 3  # the three "entered", no "left"


def test_quiet_hours_hold_an_action_until_its_not_before(platform):
    service = ActivationService(platform, operator())
    now = time.time()
    offset = {"seconds": 0.0}
    dispatcher = Dispatcher(platform, clock=lambda: now + offset["seconds"])
    with WebhookReceiver(SECRET) as receiver:
        service.add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
        [action] = _actions(platform, ["bob@example.com"], 1, "hook")
        platform.outbox.add([Action(**{**{f: getattr(action, f) for f in action.__slots__}, "not_before": datetime.fromtimestamp(now + 8 * 3600, UTC)})])
        assert dispatcher.run_once().claimed == 0  # in the customer's quiet hours
        offset["seconds"] = 8 * 3600 + 0.001  # not_before went through datetime (microseconds): a hair past it
        assert dispatcher.run_once().outcomes == {"delivered": 1}
    assert list(receiver.received.accepted) == [action.action_id]


def test_a_dead_letter_after_the_last_attempt_is_replayed_and_then_delivered(platform):
    service = ActivationService(platform, operator())
    platform.settings.activation.max_attempts = 3
    with WebhookReceiver(SECRET, fail_rate=1.0) as receiver:
        service.add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
        [action] = _actions(platform, ["bob@example.com"], 1, "hook")
        platform.outbox.add([action])
        _deliver_all(platform)
        [dead] = service.deliveries(status="dead")
        assert dead["attempts"] == 3 and dead["last_error"] == "dead_letter: HTTP 500 (attempt 3 of 3)"
        assert [a["outcome"] for a in service.attempts(action.action_id)] == ["retry", "retry", "dead"]
        receiver.fail_rate = 0.0
        assert service.replay([action.action_id]) == 1
        _deliver_all(platform)
    assert list(receiver.received.accepted) == [action.action_id]
    assert _event_counts(platform) == {"outbound_message_failed": 1, "outbound_message_sent": 1, "outbound_message_delivered": 1}


def test_failures_in_a_row_open_the_destinations_circuit_and_what_is_left_waits_uncounted(platform):
    service = ActivationService(platform, operator())
    platform.settings.activation.breaker_failures = 2
    platform.settings.activation.breaker_cooldown_seconds = 3600
    platform.settings.activation.concurrency = 1  # one send after another, so the circuit opens between two of them
    with WebhookReceiver(SECRET, fail_rate=1.0) as receiver:
        service.add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
        platform.outbox.add(_actions(platform, ["bob@example.com"], 5, "hook"))
        dispatcher = Dispatcher(platform)
        assert dispatcher.run_once().outcomes == {"retry": 2, "released": 3}
        assert dispatcher.run_once().claimed == 0  # the circuit is open: nothing for this destination is claimed
    assert receiver.received.requests == 2
    assert sorted(row["attempts"] for row in service.deliveries()) == [0, 0, 0, 1, 1]
