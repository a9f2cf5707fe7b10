"""Consent-aware segments on the warehouse, on rows the
projections wrote from consent and suppression events."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdp.config import ConsentSettings
from cdp.errors import CdpError, SegmentInvalid
from cdp.segments import evaluate
from cdp.segments.consent import ConsentScope, scope_for
from cdp.segments.model import parse_segment
from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from schemas import parse_envelope
from tests.events import event, order

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EVERYONE = parse_segment({"name": "everyone", "where": {"field": "events_total", "op": ">=", "value": 1}})


def consent(kind: str, at: str, purpose: str = "email_marketing", **ids) -> dict:
    return event(kind, at, properties={"purpose": purpose}, **ids)


def suppress(kind: str, at: str, purpose: str, **ids) -> dict:
    return event(kind, at, properties={"purpose": purpose, "reason": "bounce"}, **ids)


LOG = [
    consent("consent_given", "2025-01-01", email="ann@example.com"),  # ann: consents
    consent("consent_given", "2025-01-01", email="bob@example.com"),
    consent("consent_withdrawn", "2025-06-01", email="bob@example.com") | {"source_kind": "service"},  # bob: withdrew on the phone
    event("page_viewed", "2025-01-01", email="cat@example.com"),  # cat: never decided
    consent("consent_given", "2025-01-01", email="dan@example.com"),
    suppress("identifier_suppressed", "2025-03-01", "email_marketing", email="dan@example.com"),  # dan: consents, but bounced
    event("consent_given", "2025-01-01", properties={"purpose": "email_marketing", "expires_at": "2025-09-01T00:00:00Z"}, email="eve@example.com"),  # eve: lapsed
    consent("consent_given", "2025-01-01", email="fay@example.com"),
    consent("consent_withdrawn", "2025-02-01", "analytics", email="fay@example.com"),
    suppress("identifier_suppressed", "2025-04-01", "all", phone="+8613900000006"),  # fay's phone, before anyone knew it was hers
    order("2025-05-01", 30, "o-fay", email="fay@example.com", phone="+8613900000006"),  # now one customer: fay is suppressed for all
    consent("consent_given", "2025-01-01", email="gus@example.com") | {"source_kind": "sales"},
    suppress("identifier_suppressed", "2025-02-01", "email_marketing", email="gus@example.com"),
    suppress("identifier_unsuppressed", "2025-03-01", "email_marketing", email="gus@example.com"),  # gus: lifted
]


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    tps = [Touchpoint(p, parse_envelope(e).model_dump(mode="json")) for p, e in enumerate(LOG, start=1)]
    replay = Replay(Pipeline(ProjectionRules())).run(tps, 4)
    for table, rows in replay.stored.items():
        any_warehouse.insert(table, list(rows.values()))
    return any_warehouse


def names(warehouse, segment=EVERYONE, scope: ConsentScope | None = None) -> list[str]:
    rows = evaluate.members(warehouse, segment, 100, 0, ["emails"], NOW, scope or ConsentScope(at=NOW))
    assert evaluate.count(warehouse, segment, NOW, scope or ConsentScope(at=NOW)) == len(rows)
    return sorted(min(r["emails"])[: -len("@example.com")] for r in rows)


def test_an_export_purpose_keeps_only_customers_with_consent_in_force_and_not_suppressed(warehouse):
    assert names(warehouse) == ["ann", "bob", "cat", "dan", "eve", "fay", "gus"]
    assert names(warehouse, scope=ConsentScope(at=NOW, purpose="email_marketing")) == ["ann", "gus"]


def test_consent_is_read_at_the_scope_time(warehouse):
    assert names(warehouse, scope=ConsentScope(at=datetime(2025, 8, 1, tzinfo=UTC), purpose="email_marketing")) == ["ann", "eve", "gus"]


def test_purposes_without_a_decision_follow_the_configured_default(warehouse):
    assert names(warehouse, scope=ConsentScope(at=NOW, purpose="analytics")) == ["ann", "bob", "cat", "dan", "eve", "gus"]  # granted by default; fay withdrew
    strict = ConsentSettings.model_validate({"defaults": {"analytics": False}})
    assert names(warehouse, scope=ConsentScope(strict, NOW, "analytics")) == []
    assert names(warehouse, scope=ConsentScope(at=NOW, purpose="sms_marketing")) == []  # opt-in: nobody said yes


def test_consent_conditions_in_segments(warehouse):
    consenting = parse_segment({"name": "c", "where": {"consent": "email_marketing"}})
    assert names(warehouse, consenting) == ["ann", "dan", "fay", "gus"]  # suppression is the export's business
    refused = parse_segment({"name": "r", "where": {"all": [{"consent": "analytics", "granted": False}, {"not": {"consent": "sms_marketing"}}]}})
    assert names(warehouse, refused) == ["fay"]


def test_hostile_consent_conditions_are_refused_before_any_sql():
    with pytest.raises(SegmentInvalid, match=r"where.consent: no purpose .*; did you mean 'email_marketing'\? \(known: email_marketing, "):
        parse_segment({"name": "h", "where": {"consent": "email_marketing') OR 1=1 --"}})


def test_the_export_file_holds_only_contactable_customers(warehouse, tmp_path: Path):
    path = tmp_path / "ok.csv"
    assert evaluate.export(warehouse, EVERYONE, path, "csv", ConsentScope(at=NOW, purpose="email_marketing"), ["customer_id", "emails"]) == 2
    with path.open() as handle:
        assert sorted(row["emails"] for row in csv.DictReader(handle)) == ["ann@example.com", "gus@example.com"]


def test_contact_data_without_a_purpose_is_refused():
    with pytest.raises(CdpError, match=r"^purpose: required to export contact data \(emails, phones\)"):
        scope_for(ConsentSettings(), None, ["customer_id", "emails", "phones"])
    with pytest.raises(CdpError, match=r"^purpose: 'spam' is not one of email_marketing"):
        scope_for(ConsentSettings(), "spam", ["emails"])
    assert scope_for(ConsentSettings(), "none", ["emails"]).purpose is None  # internal analysis, said on purpose
    assert scope_for(ConsentSettings(), None, ["customer_id", "revenue"]).purpose is None  # no contact data


def test_each_event_joins_the_consent_in_force_at_its_time(warehouse):
    db = warehouse.database
    rows = warehouse.query(
        f"SELECT e.event_type AS event_type, c.granted AS granted FROM `{db}`.events AS e "
        f"JOIN (SELECT * FROM `{db}`.consent_changes FINAL WHERE purpose = {{purpose:String}}) AS c "
        "ON c.customer_id = e.customer_id AND e.occurred_at >= c.valid_from AND e.occurred_at < c.valid_to "
        f"WHERE e.customer_id IN (SELECT customer_id FROM `{db}`.identities FINAL WHERE identifier = {{who:String}}) ORDER BY e.occurred_at",
        {"purpose": "email_marketing", "who": "email:bob@example.com"},
    )
    assert [(r["event_type"], r["granted"]) for r in rows] == [("consent_given", 1), ("consent_withdrawn", 0)]
