"""`cdp keys`, `cdp sources rotate|revoke`, `cdp audit` as a user runs them, and `cdp serve`'s read API."""

import signal
import sqlite3
import subprocess

import httpx
import orjson
import pytest

from cdp.config import load_settings
from cdp.errors import ConfigError
from tests.cli import cdp, serve
from tests.waiting import TLS, wait_until

PASSWORD = "hunter2-correct-horse"


def last_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().strip().splitlines()[-1]


def test_key_lifecycle_and_audit_from_the_cli(tmp_path):
    data = tmp_path / "data"
    env = {"CDP_WAREHOUSE__PASSWORD": PASSWORD}
    token = last_line(cdp("keys", "create", "bi", "--scope", "profiles:read", "--scope", "analytics:read", data_dir=data, env=env))
    assert token.startswith("cdp_rk_") and token.encode() not in (data / "read_keys.sqlite").read_bytes()
    bad = cdp("keys", "create", "x", "--scope", "pii:write", data_dir=data)
    assert bad.returncode == 2 and b"--scope: 'pii:write' is not one of profiles:read, pii:read" in bad.stderr
    rotated = last_line(cdp("keys", "rotate", "bi", data_dir=data))
    assert rotated != token and rotated[:23] == token[:23]  # same key id, new secret
    write_key = last_line(cdp("sources", "add", "web", "--kind", "website", data_dir=data))
    new_write_key = last_line(cdp("sources", "rotate", "web", data_dir=data))
    assert cdp("sources", "revoke", "web", data_dir=data).returncode == 0
    again = cdp("sources", "rotate", "web", data_dir=data)
    assert again.returncode == 2 and b"source 'web': its write key was revoked at" in again.stderr
    assert cdp("keys", "revoke", "bi", data_dir=data).returncode == 0

    listed = cdp("keys", "list", "--format", "json", data_dir=data, env=env)
    [key] = orjson.loads(listed.stdout)
    assert (key["name"], key["scopes"], key["state"][:7]) == ("bi", "profiles:read analytics:read", "revoked")
    sources = cdp("sources", "list", data_dir=data).stdout
    audit = cdp("audit", "--json", data_dir=data)
    records = [orjson.loads(line) for line in audit.stdout.splitlines()]
    assert [(r["action"], r["target"], r["outcome"]) for r in records] == [  # refusals too
        ("key.create", "bi", "ok"), ("key.create", "x", "invalid"), ("key.rotate", "bi", "ok"), ("source.add", "web", "ok"), ("source.rotate", "web", "ok"),
        ("source.revoke", "web", "ok"), ("source.rotate", "web", "invalid"), ("key.revoke", "bi", "ok"), ("key.list", "*", "ok"), ("source.list", "*", "ok"),
    ]  # the listings too: every admin read is recorded
    assert all(r["actor"].startswith("cli:") for r in records)
    assert [r["action"] for r in orjson.loads(b"[" + b",".join(cdp("audit", "--json", "--action", "source.*", "--limit", "2", data_dir=data).stdout.splitlines()) + b"]")] == ["source.rotate", "source.list"]
    assert b"key.create" in cdp("audit", "--since", "1h", data_dir=data).stdout
    assert b"error: since: expected a date" in cdp("audit", "--since", "yesterday", data_dir=data).stderr

    everything = listed.stdout + listed.stderr + sources + audit.stdout + audit.stderr
    for secret in (token, rotated, write_key, new_write_key, PASSWORD):
        assert secret.encode() not in everything
        assert secret.encode() not in (data / "audit.sqlite").read_bytes()

    verified = cdp("audit", "verify", data_dir=data)
    assert verified.returncode == 0 and b"audit log intact: 14 records" in verified.stdout  # 8 changes, 2 listings, 4 reads of the log
    db = sqlite3.connect(data / "audit.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET actor = 'cli:nobody' WHERE seq = 3")
    db.close()
    broken = cdp("audit", "verify", data_dir=data)
    assert broken.returncode == 1 and b"audit log BROKEN at record 3: record 3 was changed after it was written" in broken.stderr


def test_config_errors_do_not_echo_passwords(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDP_WAREHOUSE__PASSWORD", PASSWORD)
    monkeypatch.setenv("CDP_EVENT_STORE__POSTGRES__PASSWORD", PASSWORD)
    monkeypatch.setenv("CDP_WAREHOUSE__PORT", "not-a-port")
    with pytest.raises(ConfigError) as refused:
        load_settings(data_dir=tmp_path)
    assert "warehouse.port" in str(refused.value) and PASSWORD not in str(refused.value)
    monkeypatch.delenv("CDP_WAREHOUSE__PORT")
    settings = load_settings(data_dir=tmp_path)
    assert PASSWORD not in repr(settings) + str(settings.model_dump())


def test_serve_answers_reads_with_a_read_key_while_the_runner_follows(tmp_path):
    data = tmp_path / "data"
    write_key = last_line(cdp("sources", "add", "web", "--kind", "website", data_dir=data))
    reader = last_line(cdp("keys", "create", "marketing", "--scope", "profiles:read", data_dir=data))
    support = last_line(cdp("keys", "create", "support", "--scope", "profiles:read", "--scope", "pii:read", data_dir=data))
    server, url = serve(data)
    try:
        wait_until(lambda: httpx.get(url + "/health", verify=TLS).status_code == 200)
        sent = httpx.post(url + "/v1/identify", json={"userId": "u-7", "traits": {"email": "u7@example.com", "name": "Wu Qi"}}, auth=(write_key, ""))
        assert sent.json() == {"success": True}
        profile = _wait_for_profile(url, support)
        assert profile["emails"] == ["u7@example.com"]
        masked = httpx.get(url + "/v1/profiles/u7@example.com", headers={"Authorization": f"Bearer {reader}"}).json()
        assert masked["emails"] == ["***"] and masked["customer_id"] == profile["customer_id"]
        refused = httpx.get(url + "/v1/profiles/u7@example.com", auth=(write_key, ""))
        assert refused.status_code == 401
        assert "x-scope" in httpx.get(url + "/openapi.json").json()["paths"]["/v1/profiles/{identifier}"]["get"]
        audit = [orjson.loads(line) for line in cdp("audit", "--json", "--action", "profile.read", data_dir=data).stdout.splitlines()]
        assert {(r["actor"], r["outcome"]) for r in audit} >= {("key:support", "ok"), ("key:marketing", "ok")}
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=60)
    for secret in (write_key, reader, support):
        assert secret.encode() not in stdout + stderr

    definition = tmp_path / "everyone.json"
    definition.write_bytes(orjson.dumps({"name": "everyone", "where": {"field": "events_total", "op": ">=", "value": 0}}))
    assert cdp("segment", "export", "--file", str(definition), "--purpose", "none", "--out", str(tmp_path / "everyone.csv"), data_dir=data).returncode == 0
    assert cdp("profile", "u7@example.com", data_dir=data).returncode == 0
    cli_reads = [orjson.loads(line) for line in cdp("audit", "--json", "--limit", "2", data_dir=data).stdout.splitlines()]
    assert [(r["action"], r["target"], r["actor"][:4]) for r in cli_reads] == [("segment.export", "everyone", "cli:"), ("profile.read", profile["customer_id"], "cli:")]


def _wait_for_profile(url: str, key: str) -> dict:
    found: list[dict] = []

    def ready() -> bool:
        response = httpx.get(url + "/v1/profiles/u7@example.com", headers={"Authorization": f"Bearer {key}"})
        if response.status_code == 200:
            found.append(response.json())
        return bool(found)

    wait_until(ready)
    return found[0]

