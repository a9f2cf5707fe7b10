"""Access control over HTTP: every route of the server app against every kind of credential.

The matrix walks ``app.routes``, so a new endpoint that declares no scope (``x-scope``) fails here.
"""

import base64
import logging
from urllib.parse import quote

import orjson
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from cdp.activation.outbox import Binding
from cdp.api.app import PUBLIC, WRITE
from cdp.keys import SCOPES
from projections.triggers import TriggerRules
from cdp.masking import MASK
from cdp.platform import Platform
from tests.integration.access_app import BIG, COMMENT, EMAIL, NAME, PHONE, AccessApp, access_app

EXPECTED_ROUTES = {  # every route the server app serves (method + path): a missing or an extra one is named
    # the collector: the Segment calls, batch and import, webhooks and their subscription check, health
    "POST /v1/track", "POST /v1/identify", "POST /v1/page", "POST /v1/screen", "POST /v1/group", "POST /v1/alias",
    "POST /v1/batch", "POST /v1/import", "POST /v1/webhooks/{source_name}", "GET /v1/webhooks/{source_name}", "GET /health",
    # profiles
    "GET /v1/profiles/{identifier}", "GET /v1/profiles/{identifier}/prediction", "GET /v1/profiles/{identifier}/timeline",
    "GET /v1/profile", "GET /v1/profile/prediction", "GET /v1/profile/timeline",
    # segments
    "GET /v1/segments", "POST /v1/segments", "POST /v1/segments/preview", "POST /v1/segments/count", "POST /v1/segments/forecast",
    "GET /v1/segments/{name}/forecast", "GET /v1/segments/{name}", "PUT /v1/segments/{name}", "DELETE /v1/segments/{name}",
    "GET /v1/segments/{name}/count", "GET /v1/segments/{name}/members", "GET /v1/segments/{name}/export",
    # analytics
    "GET /v1/analytics/funnel", "GET /v1/analytics/retention", "GET /v1/analytics/lifecycle-flow", "GET /v1/analytics/satisfaction",
    "GET /v1/analytics/topics", "GET /v1/analytics/revenue", "GET /v1/analytics/revenue-trend", "GET /v1/analytics/channels",
    "GET /v1/analytics/sla", "GET /v1/churn/backtest",
    # triggers
    "GET /v1/triggers", "GET /v1/triggers/{name}", "POST /v1/triggers/dry-run",
    # activation
    "GET /v1/destinations", "POST /v1/destinations", "POST /v1/destinations/{name}/test", "DELETE /v1/destinations/{name}",
    "GET /v1/audiences", "POST /v1/audiences", "POST /v1/audiences/{name}/sync", "GET /v1/audiences/{name}/dry-run", "DELETE /v1/audiences/{name}",
    "GET /v1/deliveries", "POST /v1/deliveries/replay",
    # tags
    "GET /v1/tags", "GET /v1/tags/_history", "POST /v1/tags/_dry-run", "POST /v1/tags/_apply", "GET /v1/tags/{tag}",
    # forgetting (the matrix calls it last: it erases the sample customer)
    "POST /v1/customers/{identifier}/forget",
}  # fmt: skip
DOCS_ROUTES = {"/openapi.json", "/docs", ""}  # "": the console's mount (its own access rules: tests/console)
SAMPLE_PATH = {"identifier": EMAIL, "name": "big", "source_name": "shop", "tag": "valid"}
SPARE = {"/v1/destinations/{name}": {"name": "spare"}, "/v1/audiences/{name}": {"name": "spare"}}  # removed, then put back by reset_activation
ANY = {"name": "any", "where": {"field": "revenue", "op": ">", "value": 0}}
SAMPLE_BODY = {
    "/v1/segments/count": ANY, "/v1/segments/preview": ANY, "/v1/segments": ANY | {"name": "made"}, "/v1/segments/{name}": {"where": ANY["where"]},
    "/v1/destinations": {"name": "made", "kind": "file", "settings": {"file_name": "made.jsonl"}},
    "/v1/audiences": {"name": "made", "segment": "big", "destination": "big", "purpose": "none"}, "/v1/deliveries/replay": {"all": True},
    "/v1/triggers/dry-run": {"rules": {}}, "/v1/segments/forecast": ANY, "/v1/tags/_dry-run": {"active_days": 30}, "/v1/tags/_apply": {"active_days": 30},
}  # fmt: skip
NO_PURPOSE = {"purpose": "none"}  # contact data in clear (pii:read, admin) needs a purpose
SAMPLE_QUERY = {"/v1/analytics/funnel": {"steps": "page_viewed,order_placed"}, "/v1/segments/preview": NO_PURPOSE, "/v1/segments/{name}/members": NO_PURPOSE, "/v1/segments/{name}/export": NO_PURPOSE,
                "/v1/profile": {"identifier": EMAIL}, "/v1/profile/prediction": {"identifier": EMAIL}, "/v1/profile/timeline": {"identifier": EMAIL},
                "/v1/triggers/dry-run": {"since": "2025-01-01T00:00:00Z", "until": "2025-02-01T00:00:00Z"}}  # fmt: skip


@pytest.fixture
def app(platform: Platform):
    big = {"when": {"kind": "birthday"}, "then": {"destination": "mail", "channel": "email", "purpose": "email_marketing"}}
    platform.settings.triggers = TriggerRules.model_validate({"rules": {"big": big}})  # GET /v1/triggers/{name} reads "big"
    platform.settings.collector.refusal_records_per_minute = 100_000  # the matrix checks the record of each of its hundreds of refusals from one address
    with access_app(platform) as app:
        yield app


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def credentials(app: AccessApp) -> dict[str, dict[str, str]]:
    """Every kind of caller, as request headers."""
    return {
        **{scope: app.bearer(scope) for scope in SCOPES},
        "revoked": app.bearer("revoked"),
        "rotated-away": app.bearer("rotated-away"),
        "write key": {"Authorization": basic(app.webhook_key)},
        "write key as bearer": {"Authorization": f"Bearer {app.webhook_key}"},
        "no key": {},
        "malformed: empty bearer": {"Authorization": "Bearer "},
        "malformed: no scheme": {"Authorization": app.tokens["admin"]},
        "malformed: bad base64": {"Authorization": "Basic !!!not-base64"},
        "malformed: forged id": {"Authorization": "Bearer cdp_rk_0123456789abcdef_" + "A" * 32},
    }


def expected(scope: str, caller: str) -> int | None:
    """None: allowed (any status but 401/403); else the refusal status."""
    if scope == PUBLIC:
        return None
    if scope == WRITE:
        if caller == "write key":
            return None
        read_key = caller in SCOPES or caller in ("revoked", "rotated-away", "malformed: forged id")
        return 403 if read_key else 401  # anything shaped like a read key is refused as one
    if caller in SCOPES:
        return None if caller in (scope, "admin") else 403
    if caller == "write key as bearer":
        return 403  # a write key can never read
    return 401


def declared_scope(route: APIRoute) -> str:
    scope = (route.openapi_extra or {}).get("x-scope")
    assert scope in (PUBLIC, WRITE, *SCOPES), f"{route.path} declares no access scope (x-scope)"
    return scope


def call(app: AccessApp, route: APIRoute, headers: dict[str, str], path: dict[str, str] | None = None):
    method = next(iter(route.methods))
    values = SAMPLE_PATH | SPARE.get(route.path, {}) | (path or {})
    url = route.path.format(**{name: quote(values[name], safe="") for name in route.param_convertors})
    body = SAMPLE_BODY.get(route.path, {}) if method in ("POST", "PUT") else None
    reset_segments(app.platform)
    reset_activation(app.platform)
    return app.client.request(method, url, headers=headers, params=SAMPLE_QUERY.get(route.path), json=body)


def reset_segments(platform: Platform) -> None:
    """The saved segments as the sample has them, whatever an earlier call created or deleted."""
    saved = {s["name"] for s in platform.segments.list()}
    if "made" in saved:
        platform.segments.delete("made")
    if "big" not in saved:
        platform.segments.create(BIG, "test")


def reset_activation(platform: Platform) -> None:
    """The sample's destination and audience (``big``) and a spare of each to remove, whatever an earlier call added or removed."""
    platform.outbox.unbind("made")
    named = {d.name for d in platform.destinations.list()}
    if "made" in named:
        platform.destinations.remove("made")
    if "spare" not in named:
        platform.destinations.add("spare", "file", {"file_name": "spare.jsonl"}, None)
    if platform.outbox.binding("spare") is None:
        platform.outbox.bind(Binding("spare", "big", "big", "", "audience", "none", (), 0, 0.0, None, None))


def all_routes(app: AccessApp) -> list:
    """Every route of the app, those of included routers too (FastAPI keeps those behind a router entry)."""
    return [context.original_route for context in iter_route_contexts(app.client.app.routes)]


def api_routes(app: AccessApp) -> list[APIRoute]:
    return [r for r in all_routes(app) if isinstance(r, APIRoute)]


def test_every_route_declares_a_scope_and_refuses_every_caller_it_must(app: AccessApp):
    routes = api_routes(app)
    assert {r.path for r in all_routes(app) if not isinstance(r, APIRoute)} == DOCS_ROUTES
    served = {f"{method} {r.path}" for r in routes for method in r.methods}
    assert served == EXPECTED_ROUTES, f"missing: {sorted(EXPECTED_ROUTES - served)}; unexpected: {sorted(served - EXPECTED_ROUTES)}"
    assert {declared_scope(r) for r in routes} == {PUBLIC, WRITE} | set(SCOPES) - {"pii:read"}
    failures = []
    for route in routes:
        scope = declared_scope(route)
        for caller, headers in credentials(app).items():
            before = len(app.platform.audit.query(limit=10_000))
            response = call(app, route, headers)
            want = expected(scope, caller)
            refusals = app.platform.audit.query(limit=10_000)[before:]
            if want is None:
                ok = response.status_code not in (401, 403) and response.status_code < 500 and all(r.action != "request.refused" for r in refusals)
                ok = ok and (scope in (PUBLIC, WRITE) or response.is_success)
            else:
                body = response.json()
                ok = response.status_code == want and body["success"] is False and body["message"]
                ok = ok and [(r.action, r.outcome, r.target) for r in refusals] == [("request.refused", f"refused:{want}", f"{next(iter(route.methods))} {route.path}")]
            if not ok:
                failures.append(f"{route.path} [{scope}] with {caller}: {response.status_code} {response.text[:120]} audit={[(r.action, r.outcome) for r in refusals]}")
    assert failures == []


def test_a_read_body_is_looked_at_only_after_the_key(app: AccessApp):
    sending = [r for r in api_routes(app) if declared_scope(r) in SCOPES and "requestBody" in (r.openapi_extra or {})]  # forget, a test send, a sync: no body
    assert len(sending) == 11  # segments: create, preview, count, update, forecast; triggers: dry-run; destinations, audiences, deliveries replay; tags: dry-run, apply
    for route in sending:
        method, url = next(iter(route.methods)), route.path.format(name="big")
        for body in (b"{not json", b"[1]", b"x" * 300_000):
            headers = {"content-type": "application/json"}
            assert app.client.request(method, url, content=body, headers=headers).status_code == 401
            assert app.client.request(method, url, content=body, headers=headers | app.bearer("analytics:read")).status_code == 403
        admin = app.bearer("admin") | {"content-type": "application/json"}
        assert app.client.request(method, url, content=b"{not json", headers=admin).json()["message"].startswith("body: malformed JSON")
        assert app.client.request(method, url, content=b"[1]", headers=admin).json()["message"] == "body: expected a JSON object"
        assert app.client.request(method, url, content=b"x" * 300_000, headers=admin).status_code == 413


def test_refusals_say_why_and_name_the_key_not_its_secret(app: AccessApp):
    cases = {
        "revoked": (401, "read key 'gone': revoked at"),
        "rotated-away": (401, "read key 'turned': wrong secret (rotated at"),
        "analytics:read": (403, "read key 'analytics-read': lacks the scope profiles:read"),
        "write key as bearer": (403, "a write key (of source 'shop') can only send events"),
        "no key": (401, "Authorization: missing"),
    }
    headers = credentials(app)
    for caller, (status, message) in cases.items():
        response = app.client.get(f"/v1/profiles/{EMAIL}", headers=headers[caller])
        assert (response.status_code, response.json()["message"][: len(message)]) == (status, message), caller
    actors = [r.actor for r in app.platform.audit.query(action="request.refused")]
    assert actors == ["key:gone", "key:turned", "key:analytics-read", "source:shop", "anonymous"]
    assert response.headers["www-authenticate"] == 'Bearer realm="cdp"'
    write = app.client.post("/v1/track", headers=app.bearer("admin"), json={"userId": "u", "event": "x"})
    assert write.status_code == 403 and "a read key (cdp_rk_...) can only read" in write.json()["message"]


def test_personal_data_is_masked_without_pii_read(app: AccessApp):
    masked = app.client.get(f"/v1/profiles/{EMAIL}", headers=app.bearer("profiles:read")).json()
    assert masked["emails"] == [MASK] and masked["phones"] == [MASK]
    assert orjson.loads(masked["traits"]) == {"name": MASK, "plan": MASK}
    assert masked["revenue"] == 600.0 and masked["customer_id"] == "c1"
    clear = app.client.get(f"/v1/profiles/{EMAIL}", headers=app.bearer("profiles+pii")).json()
    assert clear["emails"] == [EMAIL] and orjson.loads(clear["traits"])["name"] == NAME

    events = app.client.get("/v1/profiles/c1/timeline", headers=app.bearer("profiles:read")).json()
    comment = orjson.loads(events[0]["properties"])
    assert comment == {"text": MASK, "sentiment": "negative", "extra": MASK}  # free text and undeclared properties
    assert orjson.loads(events[2]["properties"]) == {"amount": 10.0, "currency": "CNY"}  # order_placed declares both
    clear_events = app.client.get("/v1/profiles/c1/timeline", headers=app.bearer("profiles+pii")).json()
    assert orjson.loads(clear_events[0]["properties"])["text"] == COMMENT

    members = app.client.get("/v1/segments/big/members", headers=app.bearer("segments:read")).json()
    assert members[0]["customer_id"] == "c1" and members[0]["emails"] == [MASK] and members[0]["phones"] == [MASK]
    assert app.client.get("/v1/segments/big/members", headers=app.bearer("profiles+pii"), params=NO_PURPOSE).json()[0]["emails"] == [EMAIL]
    for secret in (EMAIL, PHONE, NAME, COMMENT):
        assert secret not in str(masked) + str(events) + str(members)


def test_every_read_is_audited_without_personal_data(app: AccessApp):
    app.client.get(f"/v1/profiles/{EMAIL}", headers=app.bearer("profiles:read"))
    app.client.get("/v1/profiles/nobody@x.cn", headers=app.bearer("profiles:read"))
    app.client.get("/v1/profiles/c1/timeline", headers=app.bearer("admin"))
    app.client.get("/v1/segments/big/members", headers=app.bearer("segments:read"), params={"limit": 5})
    app.client.get("/v1/analytics/revenue", headers=app.bearer("analytics:read"))
    records = [(r.actor, r.action, r.target, r.outcome) for r in app.platform.audit.query()]
    assert records == [
        ("key:profiles-read", "profile.read", "c1", "ok"),
        ("key:profiles-read", "profile.read", records[1][2], "not_found"),
        ("key:admin", "profile.timeline", "c1", "ok"),
        ("key:segments-read", "segment.members", "big", "ok"),
        ("key:analytics-read", "analytics.read", "revenue", "ok"),
    ]
    assert records[1][2].startswith("sha256:")
    assert app.platform.audit.query(action="segment.members")[0].detail == {"pii": False, "limit": 5, "offset": 0, "purpose": None, "saved": True, "returned": 1}
    audit_bytes = (app.platform.settings.data_dir / "audit.sqlite").read_bytes()
    assert b"nobody@x.cn" not in audit_bytes and EMAIL.encode() not in audit_bytes
    assert app.platform.audit.verify().ok


HOSTILE = [
    "' OR '1'='1",
    "x'; DROP TABLE profiles; --",
    '"; DROP DATABASE cdp; --',
    "\\",
    "\\'",
    "{name:String}",
    "{identifier:Identifier}",
    "a\x00b",
    "%00",
    "../../../etc/passwd",
    "x" * 20_000,
    "ü\u202e🙂",
    "1) UNION SELECT * FROM system.users --",
]


def test_hostile_path_and_query_parameters_never_reach_sql(app: AccessApp):
    admin = app.bearer("admin")
    routes = [r for r in api_routes(app) if declared_scope(r) in SCOPES]
    failures = []
    for route in routes:
        method = next(iter(route.methods))
        sample_url = route.path.format(**{n: quote(SAMPLE_PATH[n], safe="") for n in route.param_convertors})
        for text in HOSTILE:
            for name in route.param_convertors:  # no customer or segment has such a name: exactly "not found"
                response = call(app, route, admin, {name: text})
                if response.status_code != 404:
                    failures.append(f"{route.path} with {name}={text[:30]!r}: {response.status_code} {response.text[:200]}")
            for param in route.dependant.query_params:
                params = (SAMPLE_QUERY.get(route.path) or {}) | {param.name: text}
                response = app.client.request(method, sample_url, headers=admin, params=params, json=SAMPLE_BODY.get(route.path))
                if response.status_code not in (200, 400, 404, 422) or (response.status_code != 200 and not response.json()["message"]):
                    failures.append(f"{route.path} with ?{param.name}={text[:30]!r}: {response.status_code} {response.text[:200]}")
    assert failures == []
    _warehouse_untouched(app)


def test_hostile_segment_definitions_are_refused_or_match_nobody(app: AccessApp):
    admin = app.bearer("admin")
    for text in HOSTILE:
        for definition in (
            {"name": text, "where": {"field": "revenue", "op": ">", "value": 0}},
            {"name": "x", "where": {"field": text, "op": "=", "value": 1}},
            {"name": "x", "where": {"field": "lifecycle_stage", "op": text, "value": "new"}},
            {"name": "x", "where": {"field": "lifecycle_stage", "op": "=", "value": text}},
            {"name": "x", "where": {"field": "lifecycle_stage", "op": "in", "value": [text, "' OR 1=1"]}},
            {"name": "x", "where": {"trait": text, "op": "=", "value": text}},
            {"name": "x", "where": {"any": [{"field": "revenue", "op": ">", "value": 1e308}, {"not": {"field": "lifecycle_stage", "op": "=", "value": text}}]}},
        ):
            response = app.client.post("/v1/segments/count", headers=admin, json=definition)
            assert response.status_code in (200, 400, 422), (definition, response.text[:300])
            if response.status_code == 200 and "not" not in str(definition["where"]):
                assert response.json()["customers"] == 0, definition
            elif response.status_code != 200:
                assert response.json()["message"], definition
    _warehouse_untouched(app)


def test_revoked_and_rotated_write_keys_stop_working(app: AccessApp):
    client = app.client
    assert client.post("/v1/track", headers={"Authorization": basic(app.write_key)}, json={"userId": "u1", "event": "x"}).status_code == 200
    _, new_key = app.platform.sources.rotate("web")
    old = client.post("/v1/track", headers={"Authorization": basic(app.write_key)}, json={"userId": "u1", "event": "x"})
    assert old.status_code == 401 and old.json()["message"].startswith("write key: unknown")
    assert client.post("/v1/track", json={"writeKey": new_key, "userId": "u1", "event": "x"}).status_code == 200
    app.platform.sources.revoke("web")
    revoked = client.post("/v1/track", json={"writeKey": new_key, "userId": "u1", "event": "x"})
    assert revoked.status_code == 401 and revoked.json()["message"].startswith("write key of source 'web': revoked at")
    assert [(r.actor, r.outcome) for r in app.platform.audit.query(action="request.refused")] == [("anonymous", "refused:401"), ("source:web", "refused:401")]
    assert new_key not in str([r.as_dict() for r in app.platform.audit.query()])


def test_secrets_never_reach_logs_errors_or_the_audit_log(app: AccessApp, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    rotated_token = app.tokens["rotated-away"]
    texts = []
    for caller, headers in credentials(app).items():
        for path in (f"/v1/profiles/{EMAIL}", "/v1/track"):
            texts.append(app.client.request("GET" if "profiles" in path else "POST", path, headers=headers, json={"userId": "u", "event": "x"}).text)
    texts.append(app.client.get("/v1/profiles/c1", headers={"Authorization": f"Bearer {rotated_token[:-1]}Z"}).text)
    texts.append(str([r.as_dict() for r in app.platform.audit.query(limit=10_000)]))
    texts.append(caplog.text)
    everything = "\n".join(texts)
    secrets = [token[len("cdp_rk_") + 17 :] for token in app.tokens.values()] + [app.write_key, app.webhook_key]
    assert [s for s in secrets if s in everything] == []


def _warehouse_untouched(app: AccessApp) -> None:
    w = app.platform.warehouse
    assert w.query(f"SELECT count() AS n FROM `{w.database}`.profiles FINAL")[0]["n"] == 2
    assert w.query(f"SELECT count() AS n FROM `{w.database}`.events")[0]["n"] == 4


def test_the_api_reference_is_one_page_with_no_script_from_anywhere(app: AccessApp):
    """/docs is the OpenAPI document as plain HTML: FastAPI's Swagger UI and ReDoc loaded their
    JavaScript from a CDN into the console's origin, where its session cookie is sent."""
    page = app.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "cdn." not in page.text and "POST /v1/segments/count" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert app.client.get("/redoc").status_code == 404 and app.client.get("/docs/oauth2-redirect").status_code == 404


def test_a_flood_of_keyless_requests_leaves_a_bounded_audit_log(platform: Platform):
    """Refusals are audited, at most ``refusal_records_per_minute`` per address a minute: without a
    bound, a client without a key grew the append-only log by a row a request."""
    platform.settings.collector.refusal_records_per_minute = 5
    with access_app(platform) as app:
        for i in range(40):
            assert app.client.get(f"/v1/profiles/{EMAIL}", headers={"Authorization": f"Bearer cdp_rk_{i:016x}_guess"}).status_code == 401
        assert app.client.get(f"/v1/profiles/{EMAIL}", headers=app.bearer("profiles:read")).status_code == 200  # the bound refuses no one
    assert len(platform.audit.query(action="request.refused", limit=1000)) == 5
