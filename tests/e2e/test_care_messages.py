"""Care messages end to end (README "Activation"): trigger rules derive actions while the runner
projects the log, the outbox keeps them by id, and the dispatcher sends a birthday greeting to a real
SMTP server and a complaint-past-SLA alert to a team chat (apprise ``json://`` to a loopback
receiver). Consent is checked at send time, and a full rebuild followed by another dispatch sends
nothing twice."""

import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from cdp.activation.dispatcher import Dispatcher
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.services import operator
from cdp.services.activation import ActivationService
from cdp.services.triggers import TriggerService
from schemas import parse_envelope
from tests.events import event
from tests.receivers import JsonReceiver, SmtpReceiver

CONFIG = """
[triggers.rules.greeting]
when = { kind = "birthday", days_before = 3 }
then = { destination = "mail", channel = "email", template = "birthday", purpose = "email_marketing" }

[triggers.rules.complaint_late]
when = { kind = "complaint_past_sla", sla = "response" }
then = { destination = "staff", channel = "staff", template = "complaint_late", purpose = "" }
"""
BIRTHDAY = {"birthday": {"en": {"subject": "Happy birthday, {{ customer.name }}", "body": "A gift is waiting for you."}}}
STAFF = {"complaint_late": {"title": "Complaint past SLA", "body": "Customer {{ customer.customer_id }}: complaint unanswered. Call them today."}}
LOG = [
    event("identified", "2026-03-01", traits={"birthday": "1990-03-10", "timezone": "Asia/Shanghai", "name": "Alice", "language": "en"}, email="alice@example.com"),
    event("consent_given", "2026-03-01", properties={"purpose": "email_marketing"}, email="alice@example.com"),
    event("identified", "2026-03-01", traits={"birthday": "1985-03-09", "name": "Bob"}, email="bob@example.com"),  # no consent: never emailed
    event("ticket_opened", "2026-03-05T08:00:00Z", properties={"ticket_id": "T1", "is_complaint": True}, email="carol@example.com"),
    event("page_viewed", "2026-03-08", properties={"url": "https://shop.example.com/"}, email="dan@example.com"),  # time moves on
]


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "cdp.toml").write_text(CONFIG)
    with Platform(load_settings(data_dir=data, activation={"backoff_seconds": 0.05, "max_backoff_seconds": 0.2})) as p:
        yield p


def deliver_all(platform: Platform) -> None:
    dispatcher, deadline = Dispatcher(platform), time.monotonic() + 60
    while (counts := platform.outbox.counts())["pending"] + counts["sending"]:
        assert time.monotonic() < deadline, f"still undelivered: {counts}"
        if not dispatcher.run_once().claimed:
            time.sleep(0.05)


def test_a_birthday_greeting_and_a_late_complaint_alert_are_sent_once_whatever_the_rebuilds(platform: Platform):
    triggers = TriggerService(platform, operator())
    for name in ("greeting", "complaint_late"):
        triggers.enable(name, now=datetime(2026, 2, 1, tzinfo=UTC))
    with SmtpReceiver() as smtp, JsonReceiver() as chat:
        activation = ActivationService(platform, operator())
        activation.add_destination("mail", "smtp", {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "care@shop.example", "templates": BIRTHDAY, "allow_private": True}, None)
        activation.add_destination("staff", "teamchat", {"templates": STAFF, "allow_private": True}, f"json://127.0.0.1:{chat.port}/")
        platform.append([parse_envelope(e) for e in LOG])
        platform.runner.run()
        assert platform.outbox.counts()["pending"] == 3  # two greetings (one will be refused at send time) and one alert
        deliver_all(platform)

        rebuild(platform, [])  # derives the same ids again
        deliver_all(platform)

    assert [(m["To"], m["Subject"]) for m in smtp.messages] == [("alice@example.com", "Happy birthday, Alice")]
    alerts = [orjson.loads(body) for body in chat.bodies]
    assert len(alerts) == 1 and "complaint unanswered" in alerts[0]["message"]
    skipped = [row["last_error"] for row in activation.deliveries(status="skipped")]
    assert skipped == ["no_consent"]  # Bob
