"""A data directory with the demo workload, a hostile customer and read keys, served by the real
``cdp serve``; and a real Chromium (Debian's, driven by Selenium 4 through Debian's chromedriver)."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from cdp.config import load_settings
from cdp.frontdoor import load_demo_data
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer
from ingestion.jsonl import import_lines
from tests.cli import serve
from tests.events import event, order
from tests.waiting import TLS, wait_until

DEMO_CUSTOMERS = 300
HOSTILE_NAME = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
HOSTILE_EMAIL = "mallory@example.com"
HOSTILE = [
    event("identified", "2025-09-01T10:00:00Z", traits={"name": HOSTILE_NAME, "city": "=cmd|' /C calc'!A0"}, email=HOSTILE_EMAIL, user_id="mallory"),
    order("2025-09-02T10:00:00Z", 120, "o-mallory", email=HOSTILE_EMAIL),
]
BROKEN = orjson.dumps(order("2025-09-03T10:00:00Z", 1, "o-broken", email=HOSTILE_EMAIL) | {"properties": {"amount": "lots"}})  # a dead letter
MARKETER = ["profiles:read", "pii:read", "segments:read", "segments:write", "analytics:read"]
NO_PII = ["profiles:read", "segments:read", "analytics:read"]


@dataclass
class Site:
    url: str
    data_dir: Path
    keys: dict[str, str] = field(default_factory=dict)  # name -> token
    email: str = ""  # of a demo customer with churn reasons
    stage: str = ""  # that customer's lifecycle stage
    at_risk: dict = field(default_factory=dict)  # a demo customer at risk: email, reasons and lifecycle causes in the warehouse's English
    merged: dict = field(default_factory=dict)  # a demo customer with merges and a churn history: email, merge and churn reasons in the warehouse's English


def prepared(data_dir: Path) -> Site:
    site = Site("", data_dir)
    with Platform(load_settings(data_dir=data_dir)) as platform:
        load_demo_data(platform, DEMO_CUSTOMERS, 7)
        report = import_lines([*(orjson.dumps(e) for e in HOSTILE), BROKEN], platform, "hostile")
        assert [line for line, _ in report.rejected] == [len(HOSTILE) + 1]  # kept as a dead letter
        platform.sources.add("web", "website")
        platform.runner.run()
        for name, scopes in (("admin", ["admin"]), ("marketer", MARKETER), ("intern", NO_PII)):
            site.keys[name] = platform.read_keys.create(name, scopes)[1]
        db = platform.warehouse.database
        found = platform.warehouse.query(
            f"SELECT p.emails[1] AS email, p.lifecycle_stage AS stage FROM `{db}`.profiles AS p FINAL JOIN `{db}`.churn_risk AS c FINAL ON c.customer_id = p.customer_id "
            "WHERE length(c.reasons) > 0 AND length(p.emails) > 0 AND p.emails[1] != {hostile:String} ORDER BY p.customer_id LIMIT 1", {"hostile": HOSTILE_EMAIL},
        )
        site.email, site.stage = found[0]["email"], found[0]["stage"]
        site.at_risk = platform.warehouse.query(
            f"SELECT p.customer_id AS customer_id, p.emails[1] AS email, c.reasons AS reasons FROM `{db}`.profiles AS p FINAL JOIN `{db}`.churn_risk AS c FINAL ON c.customer_id = p.customer_id "
            "WHERE p.lifecycle_stage = 'at_risk' AND length(c.reasons) > 1 AND length(p.emails) > 0 AND p.emails[1] != {hostile:String} ORDER BY p.customer_id LIMIT 1", {"hostile": HOSTILE_EMAIL},
        )[0]
        site.at_risk["causes"] = [r["cause"] for r in platform.warehouse.query(
            f"SELECT cause FROM `{db}`.lifecycle_transitions FINAL WHERE customer_id = {{id:String}} ORDER BY at", {"id": site.at_risk["customer_id"]})]
        site.merged = platform.warehouse.query(
            f"SELECT p.customer_id AS customer_id, p.emails[1] AS email, groupArray(m.reason) AS merges FROM `{db}`.profiles AS p FINAL "
            f"JOIN `{db}`.customer_merges AS m FINAL ON m.survivor = p.customer_id WHERE length(p.emails) > 0 AND p.customer_id IN "
            f"(SELECT customer_id FROM `{db}`.churn_level_changes FINAL WHERE length(reasons) > 1) GROUP BY p.customer_id, p.emails ORDER BY p.customer_id LIMIT 1",
        )[0]
        site.merged["churn_reasons"] = [r for row in platform.warehouse.query(
            f"SELECT reasons FROM `{db}`.churn_level_changes FINAL WHERE customer_id = {{id:String}} ORDER BY at", {"id": site.merged["customer_id"]}) for r in row["reasons"]]
    return site


@contextmanager
def served(site: Site) -> Iterator[Site]:
    process, site.url = serve(site.data_dir, stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: httpx.get(f"{site.url}/health", verify=TLS).status_code == 200, 120)
        yield site
    finally:
        process.terminate()
        process.wait(30)
        for pid_file in site.data_dir.glob("warehouse-server/pid"):
            ManagedServer.at(pid_file.parent).stop(wait=False)


def screenshots_folder(basetemp: Path) -> Path:
    """Where the browser tests leave a screenshot of each page: $CDP_SCREENSHOTS, else the test run's basetemp."""
    folder = Path(os.environ.get("CDP_SCREENSHOTS") or basetemp / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium():
    """Headless Chromium from the system (never a downloaded browser)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        raise AssertionError("Chromium and its driver are needed: sudo infra/install-test-services.sh (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))
