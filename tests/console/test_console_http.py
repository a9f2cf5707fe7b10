"""The console's door rules over HTTP (the server app as ``cdp serve`` builds it, on the sample of
tests/integration/access_app.py): sign-in and its audit, the session cookie, CSRF on every POST,
the Content-Security-Policy and no inline script or style, scopes and masking as the services
decide them, and refusals as pages naming the field."""

import csv
import io
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from cdp.console.app import POLICY
from cdp.console.session import SESSION_COOKIE
from cdp.masking import MASK
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.segments import SegmentService
from tests.integration.access_app import EMAIL, NAME, AccessApp, access_app

PAGES = ["/customers", f"/customer?id={quote(EMAIL)}", f"/customer/identity?id={quote(EMAIL)}", f"/customer/timeline?id={quote(EMAIL)}", "/segments", "/segments/new", "/segments/big", "/tags", "/dashboards/funnel", "/dashboards/revenue",
         "/operations", "/operations/keys", "/operations/audit"]


@pytest.fixture
def app(platform: Platform) -> Iterator[AccessApp]:
    with access_app(platform) as app:
        app.client.base_url = "http://127.0.0.1"  # type: ignore[misc]
        yield app


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Signs in; returns the session's CSRF token."""
    form = client.get("/signin")
    answer = client.post("/signin", data={"csrf": csrf_of(form.text), "key": token, "next": "/segments"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/segments"
    return csrf_of(client.get("/segments/new").text)


def test_pages_need_a_signed_in_key(app: AccessApp):
    answer = app.client.get("/customers?stage=new", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=%2Fcustomers%3Fstage%3Dnew"
    assert app.client.get("/customers", headers={"HX-Request": "true"}, follow_redirects=False).headers["HX-Redirect"].startswith("/signin")
    app.client.cookies.set(SESSION_COOKIE, "forged" + "A" * 80)
    assert app.client.get("/customers", follow_redirects=False).status_code == 303


def test_sign_in_is_audited_and_its_cookie_is_sealed_http_only_and_strict(app: AccessApp):
    form = app.client.get("/signin")
    refused = app.client.post("/signin", data={"csrf": csrf_of(form.text), "key": "cdp_rk_0000000000000000_nope"})
    assert refused.status_code == 401 and "not valid" in refused.text
    token = app.tokens["admin"]
    answer = app.client.post("/signin", data={"csrf": csrf_of(form.text), "key": token, "next": "https://evil.example/"}, follow_redirects=False)
    assert answer.headers["location"] == "/"  # only a path of this site
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie and token not in cookie and token.split("_")[2] not in cookie
    outcomes = [(r.action, r.outcome) for r in app.platform.audit.query(action="console.signin", limit=10)]
    assert outcomes == [("console.signin", "refused:401"), ("console.signin", "ok")]


def test_every_post_needs_the_session_csrf_token(app: AccessApp):
    token = sign_in(app.client, app.tokens["admin"])
    draft = {"rows": "1", "field-0": "revenue", "op-0": ">=", "value-0": "100", "combine": "all"}
    assert app.client.post("/segments/count", data=draft).status_code == 403
    assert app.client.post("/segments/count", data=draft | {"csrf": "0" * 64}).status_code == 403
    assert "1 customers" in app.client.post("/segments/count", data=draft, headers={"X-CSRF-Token": token}).text
    assert app.client.post("/signout", follow_redirects=False).status_code == 403
    assert app.client.post("/signout", data={"csrf": token}, follow_redirects=False).headers["location"] == "/signin"
    assert app.client.get("/customers", follow_redirects=False).status_code == 303  # signed out
    fresh = TestClient(app.client.app, base_url="http://127.0.0.1")
    assert fresh.post("/signin", data={"key": app.tokens["admin"]}).status_code == 403  # the sign-in form's own token is missing


def test_a_saved_segment_testing_a_trait_lists_its_customers_without_pii_read(app: AccessApp):
    """Its conditions are its writer's: a visitor without pii:read sees its members (masked), though
    they may not send such conditions as their own."""
    SegmentService(app.platform, operator()).create({"name": "named", "where": {"trait": "name", "op": "exists"}})
    SegmentService(app.platform, operator()).create({"name": "built-on-named", "where": {"segment": "named"}})
    token = sign_in(app.client, app.tokens["segments:read"])
    assert "id=c1\"" in app.client.get("/customers", params={"segment": "built-on-named", "stage": "new"}).text  # filters on a segment built on another
    assert app.client.get("/customers", params={"segment": "named"}).status_code == 200
    narrowed = app.client.get("/customers", params={"segment": "named", "stage": "new"})  # filters narrow it as a reference to it
    assert narrowed.status_code == 200 and "id=c1\"" in narrowed.text and "id=c2\"" not in narrowed.text
    built_on = {"rows": "2", "field-0": "segment", "op-0": "member", "value-0": "named", "field-1": "lifecycle_stage", "op-1": "=", "value-1": "new", "combine": "all"}
    assert "1 customers" in app.client.post("/segments/count", data=built_on, headers={"X-CSRF-Token": token}).text
    missing = app.client.post("/segments/count", data=built_on | {"value-0": "nameless"}, headers={"X-CSRF-Token": token})
    assert "no saved segment &#39;nameless&#39;" in missing.text


def test_refused_sign_ins_leave_a_bounded_audit_log(app: AccessApp):
    """A sign-in form's token can be used again and again: without a bound, a wrong key sent in a
    loop grew the append-only audit log by a row a try."""
    app.platform.settings.collector.refusal_records_per_minute = 3
    token = csrf_of(app.client.get("/signin").text)
    for i in range(10):
        assert app.client.post("/signin", data={"csrf": token, "key": f"cdp_rk_{i:016x}_{'A' * 32}"}).status_code == 401
    assert [r.outcome for r in app.platform.audit.query(action="console.signin", limit=100)] == ["refused:401"] * 3
    sign_in(app.client, app.tokens["admin"])  # the bound refuses no one


def test_signing_out_ends_the_session_for_a_copy_of_its_cookie_too(app: AccessApp):
    """The cookie is sealed, not stored: without a record of the sign-out, a copy of it (another
    browser, a proxy's log) kept working for the session's twelve hours."""
    token = sign_in(app.client, app.tokens["admin"])
    copy = TestClient(app.client.app, base_url="http://127.0.0.1", cookies={SESSION_COOKIE: app.client.cookies[SESSION_COOKIE]})
    assert copy.get("/customers", follow_redirects=False).status_code == 200
    assert app.client.post("/signout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert copy.get("/customers", follow_redirects=False).headers["location"].startswith("/signin")
    sign_in(app.client, app.tokens["admin"])  # a new session of the same key is not ended
    assert app.client.get("/customers", follow_redirects=False).status_code == 200


def test_a_revoked_key_ends_its_session(app: AccessApp):
    sign_in(app.client, app.tokens["admin"])
    assert app.client.get("/customers").status_code == 200
    app.platform.read_keys.revoke("admin")
    assert app.client.get("/customers", follow_redirects=False).status_code == 303


def test_every_page_is_served_under_a_strict_policy_with_no_inline_script_or_style(app: AccessApp):
    sign_in(app.client, app.tokens["admin"])
    for page in PAGES:
        answer = app.client.get(page)
        assert answer.status_code == 200, (page, answer.text[-500:])
        assert answer.headers["content-security-policy"] == POLICY and "'unsafe-inline'" not in POLICY
        scripts = re.findall(r"<script\b([^>]*)>", answer.text)
        assert all("src=" in s or 'type="application/json"' in s for s in scripts), page
        assert not re.search(r"<[^>]+\s(style|on[a-z]+)\s*=", answer.text), page
    assert app.client.get("/static/vendor/echarts/echarts.min.js").headers["content-security-policy"] == POLICY


def test_masking_and_scopes_are_the_services(app: AccessApp):
    sign_in(app.client, app.tokens["profiles:read"])
    masked = app.client.get(f"/customer?id={quote(EMAIL)}")
    assert masked.status_code == 200 and EMAIL not in masked.text and NAME not in masked.text and MASK in masked.text
    for part in ("identity", "timeline"):
        fragment = app.client.get(f"/customer/{part}?id={quote(EMAIL)}", headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and EMAIL not in fragment.text and "<html" not in fragment.text
    refused = app.client.get("/segments")
    assert refused.status_code == 403 and "segments:read" in refused.text
    assert app.client.get("/operations").status_code == 403
    assert [r.outcome for r in app.platform.audit.query(action="segment.list", limit=5)] == ["refused"]
    sign_in(app.client, app.tokens["profiles+pii"])
    assert EMAIL in app.client.get(f"/customer?id={quote(EMAIL)}").text


def test_a_key_without_profiles_read_reads_no_customer(app: AccessApp):
    sign_in(app.client, app.tokens["segments:read"])
    refused = app.client.get(f"/customer?id={quote(EMAIL)}")
    assert refused.status_code == 403 and "profiles:read" in refused.text
    assert app.platform.audit.query(action="profile.read", limit=5)[-1].outcome == "refused"


def test_bad_input_gets_a_page_naming_the_field(app: AccessApp):
    token = sign_in(app.client, app.tokens["admin"])
    assert "purpose" in app.client.get("/segments/big/export", params={"purpose": "spam"}).text
    unknown = app.client.get("/customer", params={"id": "nobody@example.com"})
    assert unknown.status_code == 404 and "nobody@example.com" in unknown.text
    saved = app.client.post("/segments/save", data={"csrf": token, "rows": "1", "field-0": "revenue", "op-0": ">=", "value-0": "x", "name": "Bad Name"})
    assert saved.status_code == 422 and "where.all[0].value: revenue &gt;= takes a number" in saved.text and "name:" in saved.text
    assert app.client.get("/dashboards/nope").status_code == 404
    period = app.client.get("/dashboards/sla", params={"period": "year"})
    assert period.status_code == 422 and "query.period: takes one of &#39;day&#39;, &#39;week&#39; or &#39;month&#39;" in period.text  # worded by pydantic's type
    assert period.headers["content-type"].startswith("text/html")
    assert app.client.post("/language", data={"csrf": token, "language": "fr"}).status_code == 422
    app.client.cookies.set("cdp_lang", "zh-CN")
    assert "query.period: 只能是 &#39;day&#39;, &#39;week&#39; or &#39;month&#39; 之一" in app.client.get("/dashboards/sla", params={"period": "year"}).text
    assert "没有客户拥有标识 &#39;nobody@example.com&#39;" in app.client.get("/customer", params={"id": "nobody@example.com"}).text
    assert "没有看板 &#39;nope&#39;" in app.client.get("/dashboards/nope").text
    app.client.cookies.delete("cdp_lang")


def test_saving_twice_keeps_the_history_and_the_export_is_csv(app: AccessApp):
    token = sign_in(app.client, app.tokens["admin"])
    for value in ("100", "500"):
        saved = app.client.post("/segments/save", data={"csrf": token, "rows": "1", "field-0": "revenue", "op-0": ">=", "value-0": value, "name": "spenders"}, follow_redirects=False)
        assert saved.headers["location"] == "/segments/spenders"
    assert [v.version for v in app.platform.segments.history("spenders")] == [1, 2]
    page = app.client.get("/segments/spenders").text
    assert "500" in page and "100" in page  # the definition now and the earlier version
    exported = app.client.get("/segments/spenders/export", params={"purpose": "none"})
    assert exported.headers["content-type"].startswith("text/csv") and exported.text.splitlines()[1].startswith("c1,")


def test_a_path_the_api_lacks_is_answered_in_its_shape(app: AccessApp):
    missing = app.client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["success"] is False
    assert app.client.get("/nothing-here").headers["content-type"].startswith("text/html")


def test_a_dashboard_narrows_to_a_saved_segment(app: AccessApp):
    sign_in(app.client, app.tokens["admin"])
    assert '<option value="big"' in app.client.get("/dashboards/revenue").text

    def customers(**params: str) -> int:
        answer = app.client.get("/dashboards/revenue.csv", params=params)
        return sum(int(row["customers"]) for row in csv.DictReader(io.StringIO(answer.text)))

    assert (customers(), customers(segment="big")) == (2, 1)  # c1 and c2; "big" (revenue >= 500) holds c1 only
    missing = app.client.get("/dashboards/revenue", params={"segment": "nope"})
    assert missing.status_code == 404 and "nope" in missing.text
