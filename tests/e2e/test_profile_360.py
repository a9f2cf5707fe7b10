"""The 360° profile and the timeline, through the service, the CLI and HTTP, on hand-made events.

Li is the customer of the projection scenarios (tests/e2e/test_proj_scenarios.py: web, WeChat,
shop, a complaint ticket, NPS, CSAT, CSI, feedback, a referral), who here also consents to email
marketing, has her phone suppressed for SMS after a complaint, answers NPS 3 with a comment and
opens a second ticket with a subject. Every section of her view is worked out by hand.

Ann, Bea and Cy are one person in three steps: Cy signs up first, Bea next, Ann last (ordering on
her own device); Ann's device then shows Bea's phone (Ann is merged into Bea), and Bea's phone
then shows with Cy's email (Bea is merged into Cy): A → B → C.
"""

import orjson
import pytest
from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.api.server import build_collector
from cdp.customers import Customers
from cdp.masking import MASK
from cdp.platform import Platform
from cdp.segments import evaluate
from cdp.segments.model import parse_segment
from cdp.services import Caller, NotFound, operator
from cdp.services.profiles import ProfileService
from ingestion.jsonl import import_lines
from tests.cli import cdp
from tests.e2e.test_proj_scenarios import LI, SCENARIO
from tests.events import event, order

COMMENT, SUBJECT, NOTE = "rude staff, call me on my mobile", "zip broke on the Li family coat", "she phoned to complain"
LI_PHONE = "+8613900000009"
LI_MORE = [
    event("consent_given", "2025-09-01T09:06:00Z", properties={"purpose": "email_marketing", "channel": "signup_form"}, **LI),
    event("identifier_suppressed", "2025-10-11T10:00:00Z", properties={"purpose": "sms_marketing", "reason": "complaint", "note": NOTE}, phone=LI_PHONE),
    event("nps_answered", "2025-10-12T10:00:00Z", properties={"score": 3, "comment": COMMENT}, **LI),
    event("ticket_opened", "2025-10-13T10:00:00Z", properties={"ticket_id": "T2", "subject": SUBJECT}, **LI),
]
BEA_PHONE, CY_EMAIL = "+8613700000007", "cy@example.com"
CHAIN = [
    event("identified", "2025-11-01T10:00:00Z", anonymous_id="cy-dev", email=CY_EMAIL),
    event("identified", "2025-11-02T10:00:00Z", anonymous_id="bea-dev", phone=BEA_PHONE),
    order("2025-11-03T10:00:00Z", 70, "o-ann", anonymous_id="ann-dev"),
    event("page_viewed", "2025-11-04T10:00:00Z", anonymous_id="ann-dev", phone=BEA_PHONE),
    event("page_viewed", "2025-11-05T10:00:00Z", phone=BEA_PHONE, email=CY_EMAIL),
]
PERSONAL = ("li@example.com", LI_PHONE, "li_w", "Li", COMMENT, SUBJECT, NOTE, "质量太差了", "是否有新款", "太差", "rude")


def load(platform: Platform) -> Platform:
    for events in (SCENARIO + LI_MORE + CHAIN[:3], CHAIN[3:4], CHAIN[4:]):  # one merge per run: events keep the id they had then
        report = import_lines((orjson.dumps(e) for e in events), platform, "scenario")
        assert (report.stored, report.rejected) == (len(events), [])
        platform.runner.run()
    platform.segments.create(parse_segment({"name": "complainers", "where": {"field": "complaints", "op": ">=", "value": 1}}), "test")
    platform.segments.create(parse_segment({"name": "big_spenders", "where": {"field": "revenue", "op": ">=", "value": 5000}}), "test")
    platform.segments.create(parse_segment({"name": "ordered", "where": {"event": "order_placed", "at_least": 1}}), "test")
    return platform


@pytest.fixture
def loaded(platform: Platform) -> Platform:
    """A data directory of the test's own, for a test that writes (rows, read keys, the audit log it reads) or closes the platform."""
    return load(platform)


@pytest.fixture(scope="module")
def shared(module_platform: Platform) -> Platform:
    """The module's one loaded data directory (``module_platform``), for the tests that only read it."""
    return load(module_platform)


def test_the_360_view_has_every_section(shared: Platform):
    view = ProfileService(shared, operator()).profile("li@example.com")
    li = view["customer_id"]
    assert view["identifiers"] == {
        "user_id": [], "email": ["li@example.com"], "phone": [LI_PHONE], "social": ["wechat:li_w"], "anonymous_id": ["li-dev"], "account_id": ["acme"],
    }  # fmt: skip
    assert orjson.loads(view["traits"])["name"] == "Li" and view["computed_traits"]["preferred_channel"] in ("sales", "survey", "service")
    assert view["lifecycle_stage"] == "at_risk" and view["lifecycle_history"][0]["cause"] and view["lifecycle_history"][-1]["to_stage"] == "at_risk"
    assert {t["tag"] for t in view["tags"]} >= {"detractor"} and all(t["since"] for t in view["tags"])
    assert (view["value"]["rfm"][1:], view["value"]["purchase_amount"], view["value"]["referral_count"]) == ("24", 1200.0, 1)
    satisfaction = view["satisfaction"]
    assert (satisfaction["last_nps"], satisfaction["nps_category"], satisfaction["csat_average"], satisfaction["last_csi"]) == (3, "detractor", 4.0, 7.5)
    answers = [(a["kind"], a["score"], a["category"]) for a in satisfaction["answers"]]
    assert answers[1:6] == [("nps", 10, "promoter"), ("nps", 6, "detractor"), ("csat", 5, "satisfied"), ("csat", 3, "unsatisfied"), ("csi", 7.5, "")]
    assert satisfaction["answers"][-2]["properties"]["comment"] == COMMENT and satisfaction["answers"][-1]["terms"] == ["rude"]
    assert [(t["ticket_id"], t["response_sla"], t["resolution_sla"], t["status"], t["subject"]) for t in view["tickets"]] == [
        ("T1", "breached", "met", "resolved", ""), ("T2", "breached", "breached", "open", SUBJECT),
    ]  # fmt: skip
    assert (view["service"]["tickets"], view["service"]["complaints"], view["service"]["sla_state"]) == (2, 1, "breached")
    assert view["churn_risk"]["level"] == "high" and "detractor (NPS 3) (+25)" in view["churn_risk"]["reasons"]
    assert (view["loyalty"]["points"], view["loyalty"]["tier"]) == (1200, "silver")
    consent = view["consent"]
    assert consent["email_marketing"] | {"since": None} == {
        "granted": True, "decided": True, "since": None, "until": None, "cause": "consent_given", "source_name": "web", "channel": "signup_form",
        "legal_basis": "consent", "wording_version": "",
    }  # fmt: skip
    assert consent["analytics"] == {"granted": True, "decided": False} and consent["sms_marketing"] == {"granted": False, "decided": False}  # the defaults
    assert [(s["identifier"], s["purpose"], s["reason"], s["note"]) for s in view["suppressions"]] == [(f"phone:{LI_PHONE}", "sms_marketing", "complaint", NOTE)]
    assert view["segments"] == ["complainers", "ordered"]
    assert li not in view["customers_merged_in"] and view["emails"] == ["li@example.com"]  # the profile's own fields stay as they were


def test_survey_answers_written_twice_show_once(loaded: Platform):
    """A replayed batch's survey answers written twice (until a merge drops the copy): the view reads
    them without FINAL and keeps one row per answer, as FINAL would."""
    answers = ProfileService(loaded, operator()).profile("li@example.com")["satisfaction"]["answers"]
    loaded.warehouse.execute("INSERT INTO cdp.survey_answers SETTINGS insert_deduplicate = 0 SELECT * FROM cdp.survey_answers")
    assert ProfileService(loaded, operator()).profile("li@example.com")["satisfaction"]["answers"] == answers and len(answers) >= 7


def test_without_pii_read_every_personal_field_reads_masked(shared: Platform):
    masked = ProfileService(shared, Caller("key:support", frozenset({"profiles:read"}))).profile("li@example.com")
    assert masked["identifiers"]["email"] == [MASK] and masked["identifiers"]["phone"] == [MASK] and masked["identifiers"]["social"] == [MASK]
    assert masked["identifiers"]["anonymous_id"] == ["li-dev"]  # as the profile's anonymous_ids
    assert orjson.loads(masked["traits"])["name"] == MASK
    assert masked["satisfaction"]["answers"][-2]["properties"]["comment"] == MASK and masked["satisfaction"]["answers"][-1]["terms"] == [MASK]
    assert masked["satisfaction"]["last_sentiment_terms"] == [MASK] and masked["satisfaction"]["answers"][-2]["score"] == 3
    assert masked["tickets"][1]["subject"] == MASK and masked["tickets"][1]["response_sla"] == "breached"
    assert masked["suppressions"][0] | {"since": None} == {"identifier": "phone:***", "purpose": "sms_marketing", "since": None, "reason": "complaint", "source_name": "esp", "note": MASK}
    text = orjson.dumps(masked).decode()
    assert [secret for secret in PERSONAL if secret in text] == []
    timeline = ProfileService(shared, Caller("key:support", frozenset({"profiles:read"}))).timeline("li@example.com", limit=1000)
    assert [secret for secret in PERSONAL if secret in orjson.dumps(timeline).decode()] == []


def test_the_cli_and_http_give_the_services_view(loaded: Platform):
    data_dir = loaded.settings.data_dir
    view = ProfileService(loaded, operator()).profile("li@example.com")
    masked = ProfileService(loaded, Caller("x", frozenset({"profiles:read"}))).profile("li@example.com")
    loaded.read_keys.create("support", ["profiles:read", "pii:read"])
    clear_key, plain_key = loaded.read_keys.create("support2", ["profiles:read", "pii:read"])[1], loaded.read_keys.create("plain", ["profiles:read"])[1]
    with TestClient(create_app(build_collector(loaded), loaded)) as client:
        clear = client.get("/v1/profiles/li@example.com", headers={"Authorization": f"Bearer {clear_key}"})
        plain = client.get("/v1/profiles/li@example.com", headers={"Authorization": f"Bearer {plain_key}"})
        missing = client.get("/v1/profiles/nobody@example.com", headers={"Authorization": f"Bearer {plain_key}"})
        # the query form: an identifier with a '/', which no path segment carries (%2F is decoded before routing)
        asked = {path: client.get(path, params={"identifier": "li@example.com"}, headers={"Authorization": f"Bearer {clear_key}"}).json()
                 for path in ("/v1/profile", "/v1/profile/timeline")}
        slashed = client.get("/v1/profile", params={"identifier": "no/body@example.com"}, headers={"Authorization": f"Bearer {plain_key}"})
        unnamed = client.get("/v1/profile/timeline", headers={"Authorization": f"Bearer {plain_key}"})
        timeline = client.get("/v1/profiles/li@example.com/timeline", headers={"Authorization": f"Bearer {clear_key}"}).json()
    assert (clear.status_code, plain.status_code, missing.status_code, slashed.status_code, unnamed.status_code) == (200, 200, 404, 404, 400)
    assert "nobody@example.com" in missing.json()["message"] and "'no/body@example.com'" in slashed.json()["message"]
    assert "identifier" in unnamed.json()["message"]
    assert asked == {"/v1/profile": clear.json(), "/v1/profile/timeline": timeline}
    assert clear.json() == view and plain.json() == masked and clear.json() != plain.json()
    loaded.close()  # the CLI opens the data directory itself
    result = cdp("profile", "li@example.com", "--format", "json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout) == view
    table = cdp("profile", "li@example.com", data_dir=data_dir)
    assert table.returncode == 0, table.stderr
    for title in ("identifiers", "tags", "value", "satisfaction", "tickets", "churn risk", "loyalty", "consent in force", "suppressions", "segments"):
        assert title in table.stdout.decode(), title


def test_reads_are_audited_with_their_outcome(loaded: Platform):
    service = ProfileService(loaded, Caller("key:support", frozenset({"profiles:read"})))
    li = service.profile("li@example.com")["customer_id"]
    with pytest.raises(NotFound, match="nobody@example.com"):
        service.profile("nobody@example.com")
    with pytest.raises(Exception, match="limit: expected 1 to 1000, got 0"):
        service.timeline("li@example.com", limit=0)
    records = [(r.actor, r.action, r.target, r.outcome, r.detail.get("pii")) for r in loaded.audit.query()]
    assert records[0] == ("key:support", "profile.read", li, "ok", False)
    assert records[1][1:4] == ("profile.read", records[1][2], "not_found") and records[1][2].startswith("sha256:")
    assert records[2][1:4] == ("profile.timeline", records[2][2], "invalid")


def test_a_merge_chain_resolves_to_its_end_in_profile_timeline_and_segments(shared: Platform):
    w = shared.warehouse
    ann, bea, cy = (w.query("SELECT customer_id FROM cdp.events FINAL WHERE message_id = {m:String}", {"m": CHAIN[i]["message_id"]})[0]["customer_id"] for i in (2, 1, 0))
    merges = {(m["absorbed"], m["survivor"]) for m in w.query("SELECT absorbed, survivor FROM cdp.customer_merges FINAL")}
    assert {(ann, bea), (bea, cy)} <= merges and (ann, cy) not in merges  # a chain, not two merges into one
    customers = Customers(w)
    assert [customers.resolve_all(i) for i in (ann, bea, cy, "ann-dev", "bea-dev", BEA_PHONE, CY_EMAIL)] == [[cy]] * 7
    assert customers.merged_into(cy) == sorted([ann, bea, cy]) and customers.merged_into(bea) == sorted([ann, bea])
    service = ProfileService(shared, operator())
    view = service.profile(ann)
    assert view["customer_id"] == cy and view["customers_merged_in"] == sorted([ann, bea]) and view["orders"] == 1
    assert "ordered" in view["segments"]
    assert {r["event_type"] for r in service.timeline(ann)} == {"identified", "order_placed", "page_viewed"} and len(service.timeline("ann-dev")) == 5
    ordered = evaluate.members(w, shared.segments.get("ordered"), limit=1000, columns=["customer_id"])
    assert cy in [r["customer_id"] for r in ordered] and bea not in [r["customer_id"] for r in ordered]  # Ann's order counts for Cy


def test_the_timeline_pages_newest_first(shared: Platform):
    service = ProfileService(shared, operator())
    everything = service.timeline("li@example.com", limit=1000)
    positions = [r["position"] for r in everything]
    assert positions == sorted(positions, reverse=True) and len(positions) == len({*positions}) == 18 + len(LI_MORE)
    pages, before = [], None
    while page := service.timeline("li@example.com", limit=7, before=before):
        pages.append([r["position"] for r in page])
        before = page[-1]["position"]
    assert [len(p) for p in pages] == [7, 7, 7, 1] and [p for page in pages for p in page] == positions
    assert isinstance(orjson.loads(everything[0]["properties"]), dict)


def test_cdp_timeline_pages_as_json_and_names_the_next_page(loaded: Platform):
    data_dir = loaded.settings.data_dir
    newest = [r["position"] for r in ProfileService(loaded, operator()).timeline("ann-dev")]
    loaded.close()
    first = cdp("timeline", "ann-dev", "--limit", "3", "--format", "json", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    rows = orjson.loads(first.stdout)
    assert [r["position"] for r in rows] == newest[:3] and isinstance(orjson.loads(rows[0]["properties"]), dict)
    assert f"next page: --before {newest[2]}" in first.stderr.decode()
    rest = cdp("timeline", "ann-dev", "--before", str(newest[2]), "--format", "json", data_dir=data_dir)
    assert [r["position"] for r in orjson.loads(rest.stdout)] == newest[3:] and b"next page" not in rest.stderr
    refused = cdp("timeline", "ann-dev", "--limit", "0", data_dir=data_dir)
    assert refused.returncode == 2 and b"--limit" in refused.stderr and b"Traceback" not in refused.stderr
    unknown = cdp("timeline", "nobody@example.com", data_dir=data_dir)
    assert (unknown.returncode, unknown.stderr.decode().strip()) == (2, "error: no customer has the identifier 'nobody@example.com' (has `cdp run` processed its events?)")
    explained = cdp("identity", "explain", "ann-dev", "--json", data_dir=data_dir)
    (chain,) = orjson.loads(explained.stdout)
    assert len(chain["customers_merged_in"]) == 2 and len(chain["merges"]) == 2  # Ann's device names Cy, with Bea and Ann merged in
    assert all(m["reason_code"] for m in chain["merges"])  # --json keeps the codes the console words
    table = cdp("identity", "explain", "ann-dev", data_dir=data_dir)
    assert table.returncode == 0 and b"merges" in table.stdout and b"named" in table.stdout  # the reason, wrapped by the table
    assert b"reason_code" not in table.stdout and b"reason_params" not in table.stdout  # the terminal shows the English reason
