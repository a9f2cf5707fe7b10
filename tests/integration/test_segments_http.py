"""Segments through both doors: the real ``cdp`` command and the HTTP server (uvicorn on a loopback
socket) over one data directory give the same consent-aware answers, and HTTP saves, versions,
previews and deletes segments with the CLI's validation messages. The CLI runs while the HTTP
server's platform stays open, as on a serving platform."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import orjson
import pyarrow.parquet as pq
import pytest

from cdp.config import Settings
from cdp.masking import MASK
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.segments import SegmentService
from ingestion.jsonl import import_lines
from tests.cli import cdp
from tests.collector_server import RunningCollector, running_collector
from tests.events import event

EMAIL_ONLY = "email_marketing"
LOG = [
    event("consent_given", "2025-01-01", properties={"purpose": EMAIL_ONLY}, email="ann@example.com"),
    event("consent_given", "2025-01-01", properties={"purpose": "analytics"}, email="bob@example.com"),  # analytics only
    event("page_viewed", "2025-01-02", email="cat@example.com"),  # never decided: email marketing is opt-in
    event("consent_given", "2025-01-01", properties={"purpose": EMAIL_ONLY}, email="dan@example.com"),
    event("identifier_suppressed", "2025-02-01", properties={"purpose": EMAIL_ONLY, "reason": "bounce"}, email="dan@example.com"),  # consents, bounced
    event("consent_given", "2025-01-01", properties={"purpose": EMAIL_ONLY}, email="eve@example.com"),
]
EVERYONE = {"name": "everyone", "where": {"field": "events_total", "op": ">=", "value": 1}}
CONTACTABLE = ["ann@example.com", "eve@example.com"]


def ok(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr.decode()
    return " ".join(done.stdout.decode().split())


def refusal(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr.decode()
    return " ".join(done.stderr.decode().split()).removeprefix("error: ")


def csv_emails(text: str) -> list[str]:
    return sorted(row["emails"] for row in csv.DictReader(io.StringIO(text)))


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[RunningCollector, dict[str, str]]]:
    """The log ingested and processed, the segment saved by an operator, and the server over that data directory."""
    with Platform(settings) as platform:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, LOG))), platform, "log", settings.batch_size)
        platform.runner.run()
        assert SegmentService(platform, operator()).create(EVERYONE)["customers"] == 5
        with running_collector(platform) as running:
            keys = {scope: platform.read_keys.create(scope.replace(":", "-"), [scope])[1] for scope in ("admin", "segments:read", "segments:write")}
            yield running, keys


def client(running: RunningCollector, key: str) -> httpx.Client:
    return httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_consent_applies_alike_through_the_cli_and_http(served, settings: Settings, tmp_path: Path):
    running, keys = served
    with client(running, keys["admin"]) as admin, client(running, keys["segments:read"]) as reader:
        assert admin.get("/v1/segments/everyone/count").json() == {"segment": "everyone", "customers": 5}
        assert admin.get("/v1/segments/everyone/count", params={"purpose": EMAIL_ONLY}).json() == {"segment": "everyone", "customers": 2}
        members = admin.get("/v1/segments/everyone/members", params={"purpose": EMAIL_ONLY}).json()
        assert sorted(m["emails"][0] for m in members) == CONTACTABLE  # bob consented to analytics only
        exported = admin.get("/v1/segments/everyone/export", params={"purpose": EMAIL_ONLY})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        assert exported.headers["content-disposition"] == 'attachment; filename="everyone.csv"'
        assert csv_emails(exported.text) == CONTACTABLE
        parquet = admin.get("/v1/segments/everyone/export", params={"purpose": EMAIL_ONLY, "format": "parquet", "columns": "customer_id,emails"})
        rows = pq.read_table(io.BytesIO(parquet.content)).to_pylist()
        assert sorted(r["emails"][0] for r in rows) == CONTACTABLE

        without = admin.get("/v1/segments/everyone/members")
        http_refusal = without.json()["message"]
        assert without.status_code == 422 and http_refusal.startswith("purpose: required to export contact data (emails, phones)")
        assert admin.get("/v1/segments/everyone/export").json()["message"] == http_refusal
        masked = reader.get("/v1/segments/everyone/members", params={"purpose": EMAIL_ONLY}).json()  # no pii:read: masked, and still consent-aware
        assert len(masked) == 2 and {m["emails"][0] for m in masked} == {MASK}
        assert reader.get("/v1/segments/everyone/count", params={"purpose": "spam"}).json()["message"].startswith("purpose: 'spam' is not one of email_marketing")

    data = settings.data_dir
    assert ok("segment", "count", "everyone", "--purpose", EMAIL_ONLY, data_dir=data).startswith("everyone: 2 customers")
    listed = orjson.loads(cdp("segment", "members", "everyone", "--purpose", EMAIL_ONLY, "--format", "json", data_dir=data).stdout)
    assert sorted(m["emails"][0] for m in listed) == CONTACTABLE
    ok("segment", "export", "everyone", "--purpose", EMAIL_ONLY, "-o", str(tmp_path / "mail.csv"), data_dir=data)
    assert csv_emails((tmp_path / "mail.csv").read_text()) == CONTACTABLE
    assert refusal("segment", "members", "everyone", data_dir=data) == http_refusal  # the same words at both doors

    audit = orjson.loads(cdp("audit", "--json", "--action", "segment.*", "--limit", "100", data_dir=data).stdout.replace(b"}\n{", b"},{").join([b"[", b"]"]))
    by_door = {(r["actor"].split(":")[0], r["action"], r["outcome"]) for r in audit}
    assert {("key", "segment.members", "ok"), ("key", "segment.members", "invalid"), ("key", "segment.export", "ok"), ("cli", "segment.export", "ok"), ("cli", "segment.members", "invalid")} <= by_door


@pytest.fixture
def api(served) -> Iterator[dict[str, httpx.Client]]:
    running, keys = served
    clients = {scope: client(running, key) for scope, key in keys.items()}
    yield clients
    for c in clients.values():
        c.close()


def test_create_update_history_and_delete_over_http(api: dict[str, httpx.Client]):
    admin, writer = api["admin"], api["segments:write"]
    created = writer.post("/v1/segments", json={"name": "loyal-ish", "description": "two orders", "where": {"field": "events_total", "op": ">=", "value": 2}})
    assert created.status_code == 201 and created.json() | {"saved_at": None} == {"name": "loyal-ish", "version": 1, "saved_at": None, "customers": 1}
    again = writer.post("/v1/segments", json={"name": "loyal-ish", "where": {"tag": "promoter"}})
    assert again.status_code == 409 and "a segment named 'loyal-ish' exists" in again.json()["message"]

    updated = writer.put("/v1/segments/loyal-ish", json={"where": {"field": "events_total", "op": ">=", "value": 1}})
    assert updated.status_code == 200 and (updated.json()["version"], updated.json()["customers"]) == (2, 5)
    shown = admin.get("/v1/segments/loyal-ish").json()
    assert (shown["version"], shown["definition"]["where"]["value"], shown["description"]) == (2, 1, "")
    assert [(v["version"], v["actor"], v["definition"]["where"]["value"]) for v in shown["history"]] == [(1, "key:segments-write", 2), (2, "key:segments-write", 1)]
    assert shown["created_at"] == shown["history"][0]["saved_at"] and shown["updated_at"] == shown["history"][1]["saved_at"]
    renamed = writer.put("/v1/segments/loyal-ish", json={"name": "other", "where": {"tag": "promoter"}})
    assert renamed.status_code == 422 and "name: 'other' differs from the segment being updated" in renamed.json()["message"]

    assert admin.delete("/v1/segments/loyal-ish").status_code == 204
    assert admin.get("/v1/segments/loyal-ish").status_code == 404
    assert admin.delete("/v1/segments/loyal-ish").status_code == 404
    assert writer.put("/v1/segments/loyal-ish", json={"where": {"tag": "promoter"}}).status_code == 404
    assert [s["name"] for s in admin.get("/v1/segments").json()] == ["everyone"]


def test_invalid_definitions_are_refused_naming_the_path_as_the_cli_does(served, api: dict[str, httpx.Client], tmp_path: Path, settings: Settings):
    admin = api["admin"]
    bad_value = {"name": "bad", "where": {"all": [{"tag": "promoter"}, {"field": "revenue", "op": ">", "value": 0}, {"field": "revenue", "op": ">=", "value": "lots"}]}}
    unknown = {"name": "vip", "where": {"all": [{"field": "tier", "op": "=", "value": "VIP"}]}}
    messages = {}
    for name, definition in (("bad", bad_value), ("vip", unknown)):
        for method, path in (("POST", "/v1/segments"), ("PUT", "/v1/segments/everyone"), ("POST", "/v1/segments/preview"), ("POST", "/v1/segments/count")):
            answer = admin.request(method, path, json=definition if method == "POST" else definition | {"name": "everyone"})
            assert answer.status_code == 422, (path, answer.text)
            messages.setdefault(name, answer.json()["message"])
            assert answer.json()["message"] == messages[name]
    assert messages["bad"] == "invalid segment: where.all[2].value: revenue >= takes a number"
    assert messages["vip"].startswith("invalid segment: where.all[0].value: tier has no value 'VIP'; did you mean 'vip'?")
    assert [s["name"] for s in admin.get("/v1/segments").json()] == ["everyone"]
    assert admin.get("/v1/segments/everyone").json()["version"] == 1  # no refused update was saved

    for name, definition in (("bad", bad_value), ("vip", unknown)):
        (tmp_path / f"{name}.json").write_bytes(orjson.dumps(definition))
        assert refusal("segment", "create", str(tmp_path / f"{name}.json"), data_dir=settings.data_dir) == messages[name]


def test_writes_need_segments_write_and_reads_segments_read(api: dict[str, httpx.Client]):
    reader, writer = api["segments:read"], api["segments:write"]
    for method, path, body in (("POST", "/v1/segments", EVERYONE | {"name": "x"}), ("PUT", "/v1/segments/everyone", EVERYONE), ("DELETE", "/v1/segments/everyone", None)):
        refused = reader.request(method, path, json=body)
        assert refused.status_code == 403 and "lacks the scope segments:write" in refused.json()["message"], path
    assert writer.get("/v1/segments/everyone/count").status_code == 403
    assert reader.get("/v1/segments/everyone/count").status_code == 200


def test_preview_counts_and_samples_without_saving(api: dict[str, httpx.Client]):
    admin, reader = api["admin"], api["segments:read"]
    preview = admin.post("/v1/segments/preview", params={"purpose": EMAIL_ONLY, "sample": 1}, json=EVERYONE | {"name": "draft"}).json()
    assert (preview["segment"], preview["customers"], len(preview["sample"])) == ("draft", 2, 1)
    assert preview["sample"][0]["emails"][0] in CONTACTABLE  # the first by customer id; consent as for members
    masked = reader.post("/v1/segments/preview", params={"columns": "customer_id,emails,revenue"}, json=EVERYONE).json()
    assert masked["customers"] == 5 and len(masked["sample"]) == 5 and {s["emails"][0] for s in masked["sample"]} == {MASK}
    assert admin.post("/v1/segments/preview", params={"sample": 101}, json=EVERYONE).status_code == 400
    assert [s["name"] for s in admin.get("/v1/segments").json()] == ["everyone"]


HOSTILE_NAMES = ["../x", "../../etc/passwd", "x/../../y", "a\x00b", "x" * 10_000, "Big Spenders", "ü"]
NAME_RULE = "invalid segment: name: String should match pattern '^[a-z0-9][a-z0-9_-]{0,99}$'"


def test_hostile_segment_names_are_refused_with_a_clear_error(served, api: dict[str, httpx.Client], settings: Settings, tmp_path: Path):
    writer, admin = api["segments:write"], api["admin"]
    for name in HOSTILE_NAMES:
        created = writer.post("/v1/segments", json={"name": name, "where": {"tag": "promoter"}})
        assert (created.status_code, created.json()["message"]) == (422, NAME_RULE), name[:20]
        for method, path in (("GET", "{}"), ("DELETE", "{}"), ("PUT", "{}"), ("GET", "{}/members"), ("GET", "{}/export")):
            missing = admin.request(method, "/v1/segments/" + path.format(quote(name, safe="")), json={"where": {"tag": "promoter"}} if method == "PUT" else None)
            assert missing.status_code == 404 and len(missing.text) < 1000, (name[:20], method, path, missing.text[:200])
    assert [s["name"] for s in admin.get("/v1/segments").json()] == ["everyone"]

    definition = tmp_path / "d.json"
    definition.write_bytes(orjson.dumps({"name": "ok", "where": {"tag": "promoter"}}))
    for name in HOSTILE_NAMES[:3] + HOSTILE_NAMES[4:]:  # argv holds no NUL
        assert refusal("segment", "create", str(definition), "--name", name, data_dir=settings.data_dir) == NAME_RULE
        shown = refusal("segment", "show", name, data_dir=settings.data_dir)
        assert shown == f"no segment named {name[:100]!r}" + ("…" if len(name) > 100 else "")


def test_the_cli_saves_versions_and_shows_them(settings: Settings, tmp_path: Path):
    data, definition = settings.data_dir, tmp_path / "everyone.yaml"
    definition.write_text('name: everyone\nwhere: {field: events_total, op: ">=", value: 1}\n')
    assert ok("segment", "create", str(definition), data_dir=data) == "saved segment everyone: 0 customers now"
    assert refusal("segment", "create", str(definition), data_dir=data).startswith("a segment named 'everyone' exists; update it")
    definition.write_text('name: everyone\ndescription: all of them\nwhere: {field: events_total, op: ">=", value: 0}\n')
    assert ok("segment", "create", str(definition), "--replace", data_dir=data) == "saved segment everyone (version 2): 0 customers now"
    assert refusal("segment", "create", str(definition), "--name", "nope", "--replace", data_dir=data) == "no segment named 'nope'"

    shown = orjson.loads(cdp("segment", "show", "everyone", "--format", "json", data_dir=data).stdout)
    assert (shown["version"], shown["description"], [v["definition"]["where"]["value"] for v in shown["history"]]) == (2, "all of them", [1, 0])
    assert {v["actor"] for v in shown["history"]} == {shown["history"][0]["actor"]} and shown["history"][0]["actor"].startswith("cli:")
    table = ok("segment", "show", "everyone", data_dir=data)
    assert table.startswith("everyone (version 2, created ") and "all of them" in table and "versions" in table
    assert ok("segment", "delete", "everyone", data_dir=data) == "deleted segment everyone"
    assert refusal("segment", "show", "everyone", data_dir=data) == "no segment named 'everyone'"
