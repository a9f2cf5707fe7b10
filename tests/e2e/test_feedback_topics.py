"""Feedback sentiment and topics from events to the trend a marketer reads (issue 22): the answer
rows carry each text's topics, and ``cdp analytics topics`` counts them per month, worked by hand."""

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.api.server import build_collector
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.analytics import AnalyticsService
from ingestion.jsonl import import_lines
from tests.cli import cdp
from tests.events import event

FEEDBACK = [
    event("feedback_given", "2025-09-03T10:00:00Z", email="a@example.com", properties={"text": "服务一般，不太满意"}),  # service, negative
    event("feedback_given", "2025-09-10T10:00:00Z", email="b@example.com", properties={"text": "快递很快，包装也很用心"}),  # delivery + packaging, positive
    event("nps_answered", "2025-09-20T10:00:00Z", email="c@example.com", properties={"score": 4, "comment": "Delivery was late and the price went up"}),  # delivery + price, negative
    event("message_sent", "2025-10-02T10:00:00Z", wechat="w-d", properties={"platform": "wechat", "text": "太棒了！"}),  # no topic, positive
    event("feedback_given", "2025-10-05T10:00:00Z", email="a@example.com", properties={"text": "质量不错，价格也实惠"}),  # price + quality, positive
]


@pytest.fixture
def processed(platform: Platform) -> Platform:
    report = import_lines((orjson.dumps(e) for e in FEEDBACK), platform, "feedback")
    assert (report.stored, report.rejected) == (len(FEEDBACK), [])
    platform.runner.run()
    return platform


def test_each_text_is_scored_and_given_its_topics(processed: Platform):
    rows = processed.warehouse.query("SELECT at, category, topics FROM cdp.survey_answers FINAL WHERE kind = 'text' ORDER BY at")
    assert [(r["category"], list(r["topics"])) for r in rows] == [
        ("negative", ["service"]), ("positive", ["delivery", "packaging"]), ("negative", ["delivery", "price"]), ("positive", []), ("positive", ["price", "quality"]),
    ]


def test_topics_trend_by_month(processed: Platform, tmp_path: Path):
    analysis = AnalyticsService(processed, operator()).topics("month", chart=tmp_path / "topics.png")
    rows = analysis.rows
    assert analysis.chart is not None and analysis.chart.stat().st_size > 0  # stacked bars of texts per topic
    assert [(r["period"], r["topic"], r["texts"], r["positive"], r["negative"], r["negative_pct"]) for r in rows] == [
        ("2025-09-01", "delivery", 2, 1, 1, 50.0), ("2025-09-01", "packaging", 1, 1, 0, 0.0), ("2025-09-01", "price", 1, 0, 1, 100.0), ("2025-09-01", "service", 1, 0, 1, 100.0),
        ("2025-10-01", "other", 1, 1, 0, 0.0), ("2025-10-01", "price", 1, 1, 0, 0.0), ("2025-10-01", "quality", 1, 1, 0, 0.0),
    ]
    october = AnalyticsService(processed, operator()).topics("month", start="2025-10-01").rows
    assert {r["period"] for r in october} == {"2025-10-01"}


def test_the_cli_prints_the_trend_and_refuses_a_bad_period(processed: Platform):
    done = cdp("analytics", "topics", "--format", "json", data_dir=processed.settings.data_dir)
    assert done.returncode == 0, done.stderr
    assert {(r["topic"], r["texts"]) for r in orjson.loads(done.stdout) if r["period"] == "2025-09-01"} == {("delivery", 2), ("packaging", 1), ("price", 1), ("service", 1)}
    refused = cdp("analytics", "topics", "--period", "year", data_dir=processed.settings.data_dir)
    assert refused.returncode != 0 and b"period: expected day, week or month" in refused.stdout + refused.stderr and b"Traceback" not in refused.stderr


def test_the_http_door_gives_the_same_rows_to_an_analytics_key(processed: Platform):
    key = processed.read_keys.create("bi", ["analytics:read"])[1]
    with TestClient(create_app(build_collector(processed), processed)) as client:
        answer = client.get("/v1/analytics/topics", params={"period": "month"}, headers={"Authorization": f"Bearer {key}"})
        unauthorised = client.get("/v1/analytics/topics")
    assert answer.status_code == 200 and answer.json() == AnalyticsService(processed, operator()).topics("month").rows
    assert unauthorised.status_code == 401
