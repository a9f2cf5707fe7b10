"""``cdp start``: the platform in one command on the embedded default.

Loads the demo data once (when the event store is empty), makes sure a demo website source
exists, and tells where to send events. Its write key is kept in ``DATA_DIR/demo-write-key`` so
that a restart can print it again (real sources' keys are only ever stored hashed).
"""

import shutil
import sys
from pathlib import Path

import orjson

from cdp.platform import Platform
from ingestion.jsonl import ImportReport, import_lines

DEMO_SOURCE = "demo-web"
# whom the printed curl and SDK example send as: nobody in the demo data (its user ids are u7-N, its
# emails carry the customer index) and not the README tour's customer (device-42, li.na@example.com)
CURL_USER_ID = "u-1001"
CURL_EMAIL = "wang.fang@example.com"


def load_demo_data(platform: Platform, customers: int, seed: int) -> ImportReport | None:
    """Ingests the demo workload (a year up to today) if nothing is stored yet; the runner processes it while serving."""
    if platform.events.last_position() > 0:
        return None
    from cdp.workload import generate

    lines = (orjson.dumps(event) for event in generate(customers, seed=seed))
    return import_lines(lines, platform, "demo", platform.settings.batch_size)


def demo_write_key(platform: Platform) -> str:
    path: Path = platform.settings.data_dir / "demo-write-key"
    if platform.sources.by_name(DEMO_SOURCE) is not None and path.is_file():
        return path.read_text().strip()
    if platform.sources.by_name(DEMO_SOURCE) is not None:  # the key file was deleted: a new source
        raise LookupError(f"the source {DEMO_SOURCE!r} exists but {path} is gone; add another with `cdp sources add`")
    _, key = platform.sources.add(DEMO_SOURCE, "website")
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def cdp_command() -> str:
    """How the user's shell reaches this installation's ``cdp``: plain ``cdp`` when it is on the
    PATH, else its path (``make start`` runs ``.venv/bin/cdp`` without activating the venv)."""
    installed = Path(sys.executable).parent / "cdp"
    on_path = shutil.which("cdp")
    if not installed.is_file() or (on_path is not None and Path(on_path).resolve() == installed.resolve()):
        return "cdp"
    try:
        return str(installed.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(installed.absolute())


def reaching_cdp(command: str) -> str:
    """A line saying how to run ``cdp`` when ``command`` (from ``cdp_command``) is not plain ``cdp``, else nothing."""
    if command == "cdp":
        return ""
    return f"(`cdp` is {command}: run it so, or activate its environment first: . {Path(command).parent}/activate)\n"


def instructions(base_url: str, key: str) -> str:
    command = cdp_command()
    return f"""
Send events to {base_url} (write key of source {DEMO_SOURCE!r}: {key})

  curl -u '{key}:' {base_url}/v1/track -H 'Content-Type: application/json' \\
    -d '{{"userId": "{CURL_USER_ID}", "event": "Order Completed", "properties": {{"order_id": "A-1", "total": 268, "currency": "CNY"}}, "context": {{"traits": {{"email": "{CURL_EMAIL}"}}}}}}'

  # Python: pip install segment-analytics-python (RudderStack's rudder-sdk-python works the same way)
  from segment.analytics import Client
  analytics = Client("{key}", host="{base_url}", sync_mode=True)
  analytics.identify("{CURL_USER_ID}", {{"email": "{CURL_EMAIL}", "name": "Wang Fang"}})
  analytics.track("{CURL_USER_ID}", "Product Viewed", {{"product_id": "p-1", "price": 59.9, "currency": "CNY"}})

The embedded runner processes new events as they arrive. API docs: {base_url}/docs.
The console: {base_url}/ (sign in with a read key: {command} keys create marketing --scope profiles:read --scope segments:read --scope segments:write --scope analytics:read).
Stop with Ctrl-C. While it runs, in another terminal, look the customer up: {command} profile {CURL_USER_ID}
{reaching_cdp(command)}"""
