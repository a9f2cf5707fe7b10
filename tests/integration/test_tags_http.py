"""Tags through both doors: the HTTP server (uvicorn on a loopback socket) and the real ``cdp``
command over one data directory answer alike; reading needs ``profiles:read``, applying ``admin``,
and a dry run's sample reads masked without ``pii:read``."""

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from cdp.config import Settings
from cdp.platform import Platform
from ingestion.jsonl import import_lines
from tests.cli import cdp
from tests.collector_server import RunningCollector, running_collector
from tests.integration.test_tags_service import CHANGE, LOG


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[RunningCollector, dict[str, str]]]:
    with Platform(settings) as platform:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, LOG))), platform, "log", settings.batch_size)
        platform.runner.run()
        with running_collector(platform) as running:
            keys = {scope: platform.read_keys.create(scope.replace(":", "-"), [scope])[1] for scope in ("admin", "profiles:read", "segments:read")}
            yield running, keys


def client(running: RunningCollector, key: str) -> httpx.Client:
    return httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def test_tags_over_http_and_the_cli_agree(served, settings: Settings, tmp_path: Path):
    running, keys = served
    data = settings.data_dir
    with client(running, keys["admin"]) as admin, client(running, keys["profiles:read"]) as reader, client(running, keys["segments:read"]) as other:
        assert other.get("/v1/tags").status_code == 403
        assert [t["tag"] for t in reader.get("/v1/tags").json()][:4] == ["valid", "invalid", "active", "inactive"]
        dry = reader.post("/v1/tags/_dry-run", json=CHANGE, params={"sample": 5})
        assert dry.status_code == 200
        active = next(t for t in dry.json()["tags"] if t["tag"] == "active")["now"]
        assert (active["lose"], [row["emails"] for row in active["lose_sample"]]) == (2, [["***"], ["***"]])  # no pii:read
        bad = reader.post("/v1/tags/_dry-run", json={"rules": [{"tag": "x", "all": [{"feature": "revenue", "op": "=>", "value": 1}]}]})
        assert bad.status_code == 422 and bad.json()["message"].startswith("invalid tag definitions: rules[0].all[0].op:")
        assert reader.post("/v1/tags/_apply", json=CHANGE).status_code == 403
        assert reader.get("/v1/tags/_history").json() == []

        (tmp_path / "change.toml").write_text(
            'active_days = 20\n[[rules]]\ntag = "big_spender"\ndescription = "Spent 500 or more."\nall = [{ feature = "revenue", op = ">=", value = 500 }]\n'
        )
        cli_dry = orjson.loads(cdp("tags", "dry-run", str(tmp_path / "change.toml"), "--format", "json", data_dir=data).stdout)
        assert cli_dry == admin.post("/v1/tags/_dry-run", json=CHANGE, params={"sample": 10}).json()  # the operator sees emails, as an admin key

        applied = admin.post("/v1/tags/_apply", json=CHANGE)
        assert applied.status_code == 200 and applied.json()["tags"] == ["active", "inactive", "big_spender"]
        shown = reader.get("/v1/tags/big_spender").json()
        assert (shown["customers"], shown["origin"]) == (1, "version 1")
        assert reader.get("/v1/tags/no_such_tag").status_code == 404

    listed = cdp("tags", "show", "big_spender", "--format", "json", data_dir=data)
    assert listed.returncode == 0 and orjson.loads(listed.stdout)[0]["customers"] == 1
    again = cdp("tags", "apply", str(tmp_path / "change.toml"), data_dir=data)
    assert again.returncode == 2 and b"the definitions change no tag" in again.stderr and b"Traceback" not in again.stderr
    history = orjson.loads(cdp("tags", "history", "--format", "json", data_dir=data).stdout)
    assert [(v["version"], v["actor"].split(":")[0], v["change"]) for v in history] == [(1, "key", CHANGE)]
