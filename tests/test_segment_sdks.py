"""The official client libraries, unmodified, pointed at our collector: Segment's and RudderStack's."""

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from cdp.config import Settings
from cdp.customers import Customers
from cdp.platform import Platform
from tests.collector_server import RunningCollector, running_collector


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def stored(c: RunningCollector) -> dict[str, dict]:
    return {e["message_id"]: e for e in (orjson.loads(n.state) for n in c.platform.events.read(0, 10_000))}


def drive(client) -> None:
    """The same calls through either library's Python API (they share Segment's signatures)."""
    client.identify("u-1", {"email": "li.na@example.com", "name": "Li Na"}, message_id="sdk-identify")
    client.track("u-1", "Order Completed", {"order_id": "o-1", "total": 99.5, "currency": "CNY", "products": [{"product_id": "p1", "price": 99.5}]}, message_id="sdk-order")
    client.page("u-1", "Docs", "Home", {"url": "https://shop.example/"}, message_id="sdk-page")
    client.screen("u-1", "App", "Cart", message_id="sdk-screen")
    client.group("u-1", "acme", {"name": "ACME"}, message_id="sdk-group")
    client.alias("anon-1", "u-1", message_id="sdk-alias")
    client.flush()


def check(collector: RunningCollector) -> None:
    events = stored(collector)
    assert set(events) == {"sdk-identify", "sdk-order", "sdk-page", "sdk-screen", "sdk-group", "sdk-alias"}
    assert events["sdk-order"]["event_type"] == "order_placed" and events["sdk-order"]["properties"]["amount"] == 99.5
    assert events["sdk-identify"]["identifiers"]["email"] == "li.na@example.com"
    assert collector.platform.dead_letters.count() == 0


@pytest.mark.parametrize("gzip", [False, True])
def test_segment_analytics_python(collector: RunningCollector, gzip: bool):
    from segment.analytics import Client

    errors = []
    client = Client(collector.write_key, host=collector.url, gzip=gzip, sync_mode=True, on_error=lambda e, batch: errors.append(e))
    drive(client)
    assert errors == []
    check(collector)


def test_rudder_sdk_python(collector: RunningCollector):
    from rudderstack.analytics.client import Client

    errors = []
    client = Client(collector.write_key, host=collector.url, gzip=True, sync_mode=True, on_error=lambda e, batch: errors.append(e))
    drive(client)
    assert errors == []
    check(collector)


def test_the_segment_library_sees_our_errors_as_segment_errors(collector: RunningCollector):
    from segment.analytics import Client
    from segment.analytics.request import APIError

    client = Client("wrong-key", host=collector.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        client.track("u-1", "Clicked")
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert refused.value.message.startswith("write key: unknown")


NODE_SCRIPT = """
const { Analytics } = require('@segment/analytics-node');
const analytics = new Analytics({ writeKey: process.argv[2], host: process.argv[3], flushAt: 3 });
analytics.on('error', (e) => { console.error(JSON.stringify(e)); process.exitCode = 1; });
analytics.identify({ userId: 'node-1', traits: { email: 'node@example.com' }, messageId: 'node-identify' });
analytics.track({ userId: 'node-1', event: 'Product Viewed', properties: { product_id: 'p9', price: 5 }, messageId: 'node-product' });
analytics.page({ anonymousId: 'node-anon', name: 'Home', properties: { url: 'https://shop.example/' }, messageId: 'node-page' });
analytics.closeAndFlush().then(() => console.log('flushed'));
"""


RUDDER_NODE_SCRIPT = """
const Analytics = require('@rudderstack/rudder-sdk-node');
const client = new Analytics(process.argv[2], { dataPlaneUrl: process.argv[3], flushAt: 3, maxRetries: 0 });
client.identify({ userId: 'node-1', traits: { email: 'node@example.com' }, messageId: 'node-identify' });
client.track({ userId: 'node-1', event: 'Product Viewed', properties: { product_id: 'p9', price: 5 }, messageId: 'node-product' });
client.page({ anonymousId: 'node-anon', name: 'Home', properties: { url: 'https://shop.example/' }, messageId: 'node-page' });
client.flush().then(() => console.log('flushed'), (e) => { console.error(String(e)); process.exitCode = 1; });
"""


@pytest.mark.parametrize(("package", "script"), [("@segment/analytics-node", NODE_SCRIPT), ("@rudderstack/rudder-sdk-node", RUDDER_NODE_SCRIPT)])
def test_node_libraries(collector: RunningCollector, tmp_path: Path, package: str, script: str):
    modules = Path(__file__).parent / "node" / "node_modules"
    if shutil.which("node") is None or not (modules / package).is_dir():
        pytest.fail(f"node or {package} is not installed: run `npm ci --prefix tests/node` (make test does)")
    (tmp_path / "send.js").write_text(script)
    env = {"NODE_PATH": str(modules), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    result = subprocess.run(["node", str(tmp_path / "send.js"), collector.write_key, collector.url], capture_output=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr.decode()
    events = stored(collector)
    assert {"node-identify", "node-product", "node-page"} <= set(events), json.dumps(list(events)) + result.stderr.decode()
    assert events["node-product"]["event_type"] == "product_viewed"
    assert collector.platform.dead_letters.count() == 0


def test_a_customer_known_by_a_segment_identify_alone_is_a_prospect_until_the_first_order(collector: RunningCollector):
    from segment.analytics import Client

    from cdp import queries

    errors = []
    client = Client(collector.write_key, host=collector.url, sync_mode=True, on_error=lambda e, batch: errors.append(e))
    platform = collector.platform

    def stage_and_history() -> tuple[str, list[tuple[str, str, str]]]:
        (customer,) = Customers(platform.warehouse).resolve_all("u-7")
        found = queries.profile(platform.warehouse, customer)
        return found["lifecycle_stage"], [(t["from_stage"], t["to_stage"], t["cause"]) for t in found["lifecycle_history"]]

    client.identify("u-7", {"email": "wu.fang@example.com"}, timestamp=datetime(2025, 6, 1, 9, tzinfo=UTC), message_id="sdk-7-identify")
    client.flush()
    assert platform.runner.run() == 1
    assert stage_and_history() == ("prospect", [("", "prospect", "known, no purchase yet (first event: identified)")])
    client.track("u-7", "Order Completed", {"order_id": "o-7", "total": 20, "currency": "CNY"}, timestamp=datetime(2025, 6, 3, 9, tzinfo=UTC), message_id="sdk-7-order")
    client.flush()
    assert platform.runner.run() == 1
    assert stage_and_history() == ("new", [("", "prospect", "known, no purchase yet (first event: identified)"), ("prospect", "new", "first purchase")])
    assert errors == []
