"""The README's own order on a fresh data directory, as a new user follows it: `cdp start`, send
the curl it prints, stop it, `cdp demo`, then the five-minute tour. The demo's data ends today, so
the customers it prints, the curl's and the tour's are judged as of now: the curl's and the tour's
customers are two different people, each `new` after one purchase, as the README says."""

import re
import signal
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import orjson

from cdp.workload import generate
from tests.cli import CDP, cdp, environment
from tests.services.ports import free_port
from tests.waiting import TLS, wait_until

README = Path(__file__).parents[2] / "README.md"
CUSTOMERS = "200"  # a small demo: the order of the steps is what is tested, not the volume


def start_and_send_the_printed_curl(data: Path) -> str:
    """Runs `cdp start`, sends what its curl line sends, stops it; returns everything it printed."""
    port = free_port()
    server = subprocess.Popen([*CDP, "start", "--port", str(port), "--customers", CUSTOMERS], env=environment(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    printed = []
    try:
        while not printed or not printed[-1].startswith(b"Stop with Ctrl-C"):
            line = server.stdout.readline()
            assert line, b"".join(printed) + server.stderr.read()
            printed.append(line)
        text = b"".join(printed).decode()
        curl = re.search(r"curl -u '([^':]+):' (\S+)/v1/track -H 'Content-Type: application/json' \\\n\s+-d '(.+)'\n", text)
        assert curl, text
        key, url, body = curl.groups()
        wait_until(lambda: httpx.get(url + "/health", verify=TLS).status_code == 200)
        sent = httpx.post(url + "/v1/track", content=body, headers={"Content-Type": "application/json"}, auth=(key, ""))
        assert sent.json() == {"success": True}
    finally:
        server.send_signal(signal.SIGINT)
        rest, stderr = server.communicate(timeout=120)
    assert server.returncode in (0, 130) and b"Traceback" not in stderr, stderr.decode()
    return text + rest.decode()


def tour_events(today: str) -> bytes:
    """The JSON Lines the README's tour writes to my-events.jsonl, dated as its shell would date them."""
    block = re.search(r"cat > my-events.jsonl <<JSON\n(.*?)\nJSON\n", README.read_text(), re.S)
    assert block, "the tour's my-events.jsonl block is not in the README"
    return block.group(1).replace("${TODAY}", today).encode() + b"\n"


def profile(data: Path, identifier: str) -> dict:
    shown = cdp("profile", identifier, "--json", data_dir=data)
    assert shown.returncode == 0, shown.stderr.decode()
    return orjson.loads(shown.stdout)


def test_the_readme_order_gives_what_the_readme_says(tmp_path: Path):
    data = tmp_path / "data"
    printed = start_and_send_the_printed_curl(data)
    curl_user = re.search(r"look the customer up: \S*cdp profile (\S+)", printed).group(1)

    demo = cdp("demo", "--customers", CUSTOMERS, data_dir=data)
    assert demo.returncode == 0, demo.stderr.decode()
    events = tmp_path / "my-events.jsonl"
    events.write_bytes(tour_events(datetime.now(UTC).date().isoformat()))
    ingested = cdp("ingest", str(events), data_dir=data)
    assert ingested.returncode == 1 and b"3 stored" in ingested.stdout and b"properties.amount" in ingested.stderr
    assert cdp("run", data_dir=data).returncode == 0

    readme = README.read_text()
    assert re.search(r'cdp profile device-42 .*stage "new"', readme) and f"profile {curl_user}` shows the customer you\nsent (stage `new`)" in readme
    tour, sent = profile(data, "device-42"), profile(data, curl_user)  # one `cdp profile` each gives the stage and the identity
    assert tour["lifecycle_stage"] == "new"
    assert sent["lifecycle_stage"] == "new"
    assert tour["customer_id"] != sent["customer_id"]  # the curl's identity is not the tour's customer

    stages = orjson.loads(cdp("sql", "SELECT lifecycle_stage AS stage, count() AS n FROM cdp.profiles FINAL GROUP BY 1", "--format", "json", data_dir=data).stdout)
    counts = {row["stage"]: row["n"] for row in stages}
    assert {"prospect", "new", "repeat", "at_risk", "churned"} <= set(counts), counts  # a realistic mix, judged as of now
    assert counts["churned"] < sum(counts.values()) / 4, counts


def test_cdp_generate_end_gives_the_same_bytes_on_any_day(tmp_path: Path):
    written = cdp("generate", "--customers", "20", "--end", "2026-12-06", data_dir=tmp_path)
    assert written.returncode == 0, written.stderr.decode()
    assert written.stdout == b"".join(orjson.dumps(e) + b"\n" for e in generate(20, end=date(2026, 12, 6)))
    refused = cdp("generate", "--customers", "20", "--end", "2026-13-01", data_dir=tmp_path)
    assert refused.returncode == 2 and b"--end" in refused.stderr and b"Traceback" not in refused.stderr
