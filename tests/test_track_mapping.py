"""Segment ``track`` calls → typed events (ingestion.track_mapping), through the official Segment
Python library against a real collector, then the projections.

Worked by hand with the default rules: ``NPS Answered`` with score 3 is an NPS answer (0-6: a
detractor). ``Ticket Opened`` with ``type: complaint`` at 2026-03-01 11:00 is a complaint; the
customer's last event is 25 h later (2026-03-02 12:00), past the 24 h first-response SLA with no
response, so the ticket's response SLA and the customer's SLA state are ``breached``.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
from pydantic import BaseModel

from cdp.config import Settings, SourceLimits, load_settings
from cdp.customers import Customers
from cdp.errors import ConfigError
from cdp.platform import Platform
from cdp.replay import replay
from ingestion.sdk import Connector, Touch, sort_records
from ingestion.track_mapping import IngestionRules, TrackMapping
from tests.collector_server import RunningCollector, running_collector


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def segment_client(collector: RunningCollector):
    from segment.analytics import Client

    errors: list = []
    return Client(collector.write_key, host=collector.url, sync_mode=True, on_error=lambda e, batch: errors.append(e)), errors


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stored(platform: Platform) -> dict[str, dict]:
    return {e["message_id"]: e for e in (orjson.loads(n.state) for n in platform.events.read(0, 10_000))}


def row(platform: Platform, table: str, customer_id: str) -> dict:
    (found,) = platform.warehouse.query(f"SELECT * FROM cdp.{table} FINAL WHERE customer_id = {{c:String}}", {"c": customer_id})
    return found


def test_nps_answer_and_complaint_sent_as_track_calls_count(collector: RunningCollector):
    client, errors = segment_client(collector)
    client.identify("u-1", {"email": "li.na@example.com"}, timestamp=at("2026-03-01T09:00:00"), message_id="who")
    client.track("u-1", "NPS Answered", {"score": 3, "survey_id": "post-purchase"}, timestamp=at("2026-03-01T10:00:00"), message_id="nps")
    client.track("u-1", "Ticket Opened", {"ticket_id": "T-1", "type": "complaint", "priority": "normal"}, timestamp=at("2026-03-01T11:00:00"), message_id="ticket")
    client.page("u-1", None, "Help", {"url": "https://shop.example/help"}, timestamp=at("2026-03-02T12:00:00"), message_id="later")
    client.flush()
    assert errors == [] and collector.platform.dead_letters.count() == 0

    events = stored(collector.platform)
    assert (events["nps"]["event_type"], events["nps"]["source_kind"], events["nps"]["properties"]) == ("nps_answered", "survey", {"score": 3, "survey_id": "post-purchase", "comment": ""})
    assert events["nps"]["context"]["tracked_as"] == "NPS Answered"
    ticket = events["ticket"]
    assert (ticket["event_type"], ticket["source_kind"]) == ("ticket_opened", "service")
    assert (ticket["properties"]["is_complaint"], ticket["properties"]["category"]) == (True, "complaint")

    platform = collector.platform
    assert platform.runner.run() == 4
    (customer,) = Customers(platform.warehouse).resolve_all("u-1")
    satisfaction = row(platform, "customer_satisfaction", customer)
    assert (satisfaction["nps_answers"], satisfaction["last_nps"], satisfaction["nps_category"], satisfaction["nps"]) == (1, 3, "detractor", -100.0)
    service = row(platform, "customer_service", customer)
    assert (service["tickets"], service["complaints"], service["open_tickets"], service["response_breaches"], service["sla_state"]) == (1, 1, 1, 1, "breached")
    tickets = row(platform, "tickets", customer)
    assert (tickets["ticket_id"], tickets["is_complaint"], tickets["response_sla"], tickets["resolution_sla"]) == ("T-1", 1, "breached", "pending")


def test_an_invalid_mapped_event_is_dead_lettered_with_the_field_and_replayed_after_a_mapping_change(collector: RunningCollector):
    client, errors = segment_client(collector)
    client.track("u-2", "nps answered", {"score": 11}, message_id="too-high")
    client.track("u-2", "NPS Answered", {"nps": 9}, message_id="renamed")  # the widget calls it nps
    client.flush()
    platform = collector.platform
    reasons = sorted(letter.reason for letter in platform.dead_letters.list())
    assert reasons[0].startswith("properties.score: Field required") and reasons[1].startswith("properties.score: Input should be less than or equal to 10"), reasons

    platform.settings.ingestion = IngestionRules.model_validate({"track_mapping": {"NPS Answered": {"event_type": "nps_answered", "rename": {"nps": "score"}}}})
    report = replay(platform)
    assert (report.stored, len(report.still_failing)) == (1, 1)  # the renamed score now fits; 11 still does not
    assert stored(platform)["renamed"]["properties"]["score"] == 9


def test_the_mapping_is_configuration_added_to_the_documented_defaults(tmp_path):
    config = tmp_path / "cdp.toml"
    config.write_text(
        '[ingestion.track_mapping."Survey Completed"]\nevent_type = "csat_answered"\nrename = { rating = "score" }\n'
        '[ingestion.track_mapping."ticket opened"]\nevent_type = "event_tracked"\n'  # a default switched off
    )
    mapping = load_settings(config, data_dir=tmp_path).ingestion.track_mapping
    tracked = lambda name, **properties: {"event_type": "event_tracked", "source_kind": "website", "properties": {"name": name, **properties}, "context": {}}  # noqa: E731
    assert mapping.mapped(tracked("survey  completed", rating=4))["properties"] == {"score": 4}
    assert mapping.mapped(tracked("Ticket Opened", ticket_id="T"))["event_type"] == "event_tracked"
    assert mapping.mapped(tracked("NPS Answered", score=9))["event_type"] == "nps_answered"  # the other defaults stay
    assert mapping.mapped(tracked("Referral Made"))["properties"] == {"name": "referral_made"}  # counted as a referral
    assert mapping.mapped(tracked("Consent Given", purpose="email_marketing"))["source_kind"] == "website"  # consent accepts any kind

    config.write_text('[ingestion.track_mapping."Survey Completed"]\nevent_type = "nps_answerd"\n')
    with pytest.raises(ConfigError, match=r"ingestion.track_mapping.Survey Completed.event_type: .*'nps_answerd' is not an event type"):
        load_settings(config, data_dir=tmp_path)
    with pytest.raises(ValueError, match="source_kind: nps_answered comes from a survey source, not sales"):
        TrackMapping.model_validate({"X": {"event_type": "nps_answered", "source_kind": "sales"}})
    with pytest.raises(ValueError, match="named twice"):
        TrackMapping.model_validate({"X y": {"event_type": "nps_answered"}, "x  Y": {"event_type": "csat_answered"}})


class Widget(BaseModel):
    """A product-analytics tool's record: an event name and its properties."""

    user: str
    event: str
    properties: dict = {}


class WidgetTool(Connector):
    """A connector that yields untyped ``event_tracked`` events, as a generic analytics tool's would."""

    name = "widget"
    tool = "tests"
    source_kind = "website"
    Record = Widget

    def map(self, record: Widget):
        yield Touch(f"{record.user}:{record.event}", "event_tracked", "2026-03-01T10:00:00Z", {"user_id": record.user}, properties={"name": record.event, **record.properties})


def test_webhook_and_import_records_are_mapped_too():
    mapping = IngestionRules().track_mapping
    records = [{"user": "u-3", "event": "CSAT Submitted", "properties": {"score": 2}}, {"user": "u-3", "event": "Clicked"}]
    for origin in ("webhook:widget", "import:widget:export.jsonl"):
        result = sort_records(WidgetTool(), [orjson.dumps(r) for r in records], "tool", datetime.now(UTC), origin, SourceLimits(), track_mapping=mapping)
        assert [(e.event_type, e.source_kind) for e in result.events] == [("csat_answered", "survey"), ("event_tracked", "website")] and result.rejected == []
