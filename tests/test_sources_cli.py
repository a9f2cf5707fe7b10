"""`cdp sources add|list` and `cdp serve` as a user runs them: the printed key works over HTTP."""

import signal
import time

import httpx

from tests.cli import cdp, serve
from tests.waiting import TLS


def test_add_list_and_refusals(tmp_path):
    data = tmp_path / "data"
    added = cdp("sources", "add", "web", "--kind", "website", data_dir=data)
    assert added.returncode == 0
    key = added.stdout.decode().strip().splitlines()[-1]
    assert len(key) >= 32
    assert key.encode() not in (data / "sources.sqlite").read_bytes()  # stored hashed
    listed = cdp("sources", "list", data_dir=data)
    assert b"web" in listed.stdout and b"website" in listed.stdout
    again = cdp("sources", "add", "web", "--kind", "website", data_dir=data)
    assert again.returncode == 2 and b"a source named 'web' exists already" in again.stderr
    bad_kind = cdp("sources", "add", "x", "--kind", "tv", data_dir=data)
    assert bad_kind.returncode == 2 and b"--kind: 'tv' is not one of" in bad_kind.stderr
    bad_name = cdp("sources", "add", "Bad Name", "--kind", "website", data_dir=data)
    assert bad_name.returncode == 2 and b"source name 'Bad Name'" in bad_name.stderr
    connectors = cdp("connectors", "list", data_dir=data)
    assert all(name in connectors.stdout for name in (b"zendesk", b"shopify", b"typeform", b"meta-page-feed"))


def test_serve_stores_what_the_printed_key_sends(tmp_path):
    data = tmp_path / "data"
    key = cdp("sources", "add", "web", "--kind", "website", data_dir=data).stdout.decode().strip().splitlines()[-1]
    admin = {"Authorization": "Bearer " + cdp("keys", "create", "ops", "--scope", "admin", data_dir=data).stdout.decode().strip().splitlines()[-1]}
    server, url = serve(data)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/health", verify=TLS).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        response = httpx.post(url + "/v1/identify", json={"userId": "u-7", "traits": {"email": "u7@example.com"}}, auth=(key, ""))
        assert response.json() == {"success": True}
        deadline = time.monotonic() + 60
        while httpx.get(url + "/health", headers=admin, verify=TLS).json()["runner"].get("position", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # the embedded runner follows new events while serving
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=60)
    assert server.returncode in (0, 130), stderr.decode()  # 130: stopped by SIGINT, as uvicorn reports it
    assert b"collector listening on" in stdout and b"Traceback" not in stderr
    profile = cdp("profile", "u7@example.com", "--json", data_dir=data)  # the runner followed and processed it
    assert profile.returncode == 0, profile.stderr


def test_a_key_revoked_by_another_process_stops_working_within_a_second(tmp_path):
    """The collector remembers accepted keys; `cdp sources revoke` (another process) must still end them."""
    from cdp.sources import SourceRegistry

    serving = SourceRegistry(tmp_path / "sources.sqlite")
    serving.add("web", "website")
    before = serving.generation()
    revoked = cdp("sources", "revoke", "web", data_dir=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    time.sleep(1.05)
    assert serving.generation() != before
    own = serving.generation()
    serving.add("shop", "sales")
    assert serving.generation() != own  # its own changes count at once
