"""The services under the doors (analytics, privacy, access, sources, ingest) on real stores: each
checks the caller's scope, names the bad field, and audits every outcome, so every door agrees."""

from pathlib import Path

import orjson
import pytest

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import Caller, Conflict, Forbidden, NotFound
from cdp.services.access import AccessService
from cdp.services.analytics import AnalyticsService
from cdp.services.ingest import IngestService
from cdp.services.privacy import PrivacyService
from cdp.services.sources import SourceService, installed_connectors
from tests.events import event, order

ADMIN = Caller("key:ops", frozenset({"admin"}))
ANALYST = Caller("key:bi", frozenset({"analytics:read"}))
READER = Caller("key:support", frozenset({"profiles:read", "pii:read"}))


def audited(platform: Platform) -> list[tuple[str, str, str, str]]:
    return [(r.actor, r.action, r.target, r.outcome) for r in platform.audit.query(limit=1000)]


def lines(*events: dict) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


@pytest.fixture
def processed(platform: Platform) -> Platform:
    IngestService(platform, ADMIN).ingest_lines(lines(order("2025-01-02", 10, "o1", email="ann@example.com"), event("page_viewed", "2025-01-03", email="bob@example.com")), "test")
    platform.runner.run()
    return platform


def test_analytics_checks_scope_and_parameters_and_audits_every_outcome(processed: Platform, tmp_path: Path):
    analyst = AnalyticsService(processed, ANALYST)
    assert {r["lifecycle_stage"] for r in analyst.revenue().rows} >= {"new"}
    with pytest.raises(Forbidden, match="analytics:read"):
        AnalyticsService(processed, READER).revenue()
    with pytest.raises(CdpError, match=r"^period: expected day, week or month, got 'year'$"):
        analyst.retention("year")
    with pytest.raises(CdpError, match=r"^end: expected a date like 2025-10-01, got 'soon'$"):
        analyst.channels("month", "2025-01-01", "soon")
    with pytest.raises(CdpError, match=r"^window_days: expected more than 0 and at most 3660, got 0$"):
        analyst.funnel("a,b", 0)
    with pytest.raises(CdpError, match=r"^--chart: expected a file name ending in \.html or \.png"):
        analyst.sla(chart=tmp_path / "x.svg")
    drawn = analyst.funnel("page_viewed,order_placed", 7, "2025-01-01", chart=tmp_path / "f.html")
    assert drawn.chart == tmp_path / "f.html" and drawn.chart.is_file() and [r["step"] for r in drawn.rows] == [1, 2]
    reads = [(a, t, o) for a, action, t, o in audited(processed) if action == "analytics.read"]
    assert reads == [("key:bi", "revenue", "ok"), ("key:support", "revenue", "refused"), ("key:bi", "retention", "invalid"), ("key:bi", "channels", "invalid"),
                     ("key:bi", "funnel", "invalid"), ("key:bi", "sla", "invalid"), ("key:bi", "funnel", "ok")]
    assert processed.audit.query(action="analytics.read")[-1].detail == {"query": {"steps": "page_viewed,order_placed", "window_days": 7, "start": "2025-01-01"}}


def test_forgetting_is_an_administrators_act_and_every_refusal_is_audited_hashed(processed: Platform):
    with pytest.raises(Forbidden):
        PrivacyService(processed, READER).forget("ann@example.com")
    with pytest.raises(NotFound, match="nobody@example.com"):
        PrivacyService(processed, ADMIN).forget("nobody@example.com")
    (receipt,) = PrivacyService(processed, ADMIN).forget("ann@example.com")
    with pytest.raises(Conflict, match="forgotten already"):
        PrivacyService(processed, ADMIN).forget(receipt["customer_id"])
    forgets = [(a, t, o) for a, action, t, o in audited(processed) if action == "customer.forget"]
    assert [(a, o) for a, _, o in forgets] == [("key:support", "refused"), ("key:ops", "not_found"), ("key:ops", "done"), ("key:ops", "conflict")]
    assert forgets[2][1] == receipt["customer_id"] and all(t.startswith("sha256:") for i, (_, t, _) in enumerate(forgets) if i != 2)
    assert b"nobody@example.com" not in processed.settings.audit_path.read_bytes()


def test_suppressions_are_events_named_by_field_and_audited(processed: Platform):
    privacy = PrivacyService(processed, ADMIN)
    with pytest.raises(CdpError, match=r"^identifier: 'ann' is not email:\.\.\., phone:\.\.\. or user_id:\.\.\."):
        privacy.suppress("ann")
    with pytest.raises(CdpError, match=r"^purpose: 'spam' is not one of"):
        privacy.suppressions("spam")
    recorded = privacy.suppress("bob@example.com", "email_marketing", note="ticket 7")
    assert recorded.event_type == "identifier_suppressed" and recorded.source_name == "operator"
    processed.runner.run()
    assert [(r["identifier"], r["purpose"], r["note"]) for r in privacy.suppressions("email_marketing")] == [("email:bob@example.com", "email_marketing", "ticket 7")]
    privacy.unsuppress("email:bob@example.com", "email_marketing")
    processed.runner.run()
    assert privacy.suppressions() == []
    with pytest.raises(Forbidden):
        PrivacyService(processed, ANALYST).suppress("bob@example.com")
    changes = [(action, o) for _, action, _, o in audited(processed) if action.startswith("suppression.")]
    assert changes == [("suppression.add", "invalid"), ("suppression.list", "invalid"), ("suppression.add", "ok"), ("suppression.list", "ok"),
                       ("suppression.remove", "ok"), ("suppression.list", "ok"), ("suppression.add", "refused")]
    assert b"bob@example.com" not in processed.settings.audit_path.read_bytes()


def test_read_keys_and_the_audit_log_are_an_administrators(platform: Platform):
    access = AccessService(platform, ADMIN)
    key, token = access.create_key("bi", ["analytics:read"])
    assert platform.read_keys.authenticate(token) == key
    _, new_token = access.rotate_key("bi")
    assert access.revoke_key("bi").revoked_at and new_token != token
    with pytest.raises(CdpError, match="a read key named 'bi' exists already"):
        access.create_key("bi", ["admin"])
    with pytest.raises(Forbidden):
        AccessService(platform, ANALYST).create_key("mine", ["admin"])
    with pytest.raises(Forbidden):
        AccessService(platform, ANALYST).audit_records()
    with pytest.raises(CdpError, match=r"^since: expected a date or time"):
        access.audit_records(since="yesterday")
    assert [(r.action, r.target, r.outcome) for r in access.audit_records(since="1h", action="key.*")] == [
        ("key.create", "bi", "ok"), ("key.rotate", "bi", "ok"), ("key.revoke", "bi", "ok"), ("key.create", "bi", "invalid"), ("key.create", "mine", "refused")]
    assert [k.name for k in access.keys()] == ["bi"] and access.verify_audit().ok
    assert token not in str(access.audit_records()) and new_token not in str(access.audit_records())
    with pytest.raises(Forbidden):
        AccessService(platform, ANALYST).keys()
    # every read of the keys and of the log is itself recorded, refusals too (a key probing admin routes is seen)
    reads = [(actor, action, outcome) for actor, action, _, outcome in audited(platform) if action in ("key.list", "audit.read", "audit.verify")]
    assert reads == [("key:bi", "audit.read", "refused"), ("key:ops", "audit.read", "invalid"), ("key:ops", "audit.read", "ok"),
                     ("key:ops", "key.list", "ok"), ("key:ops", "audit.verify", "ok"), ("key:ops", "audit.read", "ok"), ("key:ops", "audit.read", "ok"),
                     ("key:bi", "key.list", "refused")]


def test_sources_connectors_and_dead_letters(platform: Platform):
    sources = SourceService(platform, ADMIN)
    with pytest.raises(CdpError, match=r"^connector: unknown connector 'nope'"):
        sources.add("shop", "sales", "nope")
    added, key = sources.add("shop", "sales", "shopify")
    assert platform.sources.by_write_key(key) == added and [s.name for s in sources.sources()] == ["shop"]
    assert sources.rotate("shop")[1] != key and sources.revoke("shop").revoked_at
    assert "shopify" in [r["name"] for r in installed_connectors().rows]

    report = IngestService(platform, ADMIN).ingest_lines([b'{"event_type": "page_viewed"}', b"not json"], "upload.jsonl")
    assert (report.lines, report.stored, len(report.rejected)) == (2, 0, 2)
    kept = sources.dead_letters(limit=10)
    assert kept.total == 2 and len(kept.letters) == 2
    assert sources.dead_letter(kept.letters[0].id).payload == b"not json"
    with pytest.raises(NotFound, match="no dead letter has the id 999"):
        sources.dead_letter(999)
    with pytest.raises(Forbidden):
        SourceService(platform, READER).dead_letter(kept.letters[0].id)
    with pytest.raises(Forbidden):
        SourceService(platform, READER).dead_letters()
    assert len(sources.replay().still_failing) == 2
    actions = [(action, t, o) for _, action, t, o in audited(platform) if action.startswith(("source.", "deadletter.", "events."))]
    assert actions == [("source.add", "shop", "invalid"), ("source.add", "shop", "ok"), ("source.list", "*", "ok"), ("source.rotate", "shop", "ok"), ("source.revoke", "shop", "ok"),
                       ("events.ingest", "upload.jsonl", "ok"), ("deadletter.list", "*", "ok"), ("deadletter.show", str(kept.letters[0].id), "ok"), ("deadletter.show", "999", "not_found"),
                       ("deadletter.show", str(kept.letters[0].id), "refused"), ("deadletter.list", "*", "refused"), ("deadletter.replay", "*", "ok")]
    assert platform.audit.query(action="events.ingest")[0].detail == {"lines": 2, "stored": 0, "duplicates": 0, "rejected": 2}


def test_an_import_names_what_is_wrong(platform: Platform, tmp_path: Path):
    ingest = IngestService(platform, ADMIN)
    export = tmp_path / "nps.csv"
    with pytest.raises(CdpError, match="no such file"):
        ingest.import_file("delighted-nps", export, "surveys")
    export.write_text("x\n")
    with pytest.raises(CdpError, match=r"^source: no source is named 'surveys'"):
        ingest.import_file("delighted-nps", export, "surveys")
    with pytest.raises(Forbidden):
        IngestService(platform, ANALYST).ingest_lines([], "x")
    assert [(a, o) for _, a, _, o in audited(platform)] == [("events.import", "invalid"), ("events.import", "invalid"), ("events.ingest", "refused")]
