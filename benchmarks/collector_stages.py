"""Where the collector's CPU goes, per event, stage by stage, for /v1/batch requests of 100 events.

Runs the collector's own functions in one process on the benchmark's request bodies (no HTTP),
best of several repeats, so each figure is a stage's cost, not the machine's load:

    .venv/bin/python -m benchmarks.collector_stages [--requests 200] [--batch 100] [--event product|page|custom]

``--event``: the collector benchmark's product view (declared properties only), a page view whose
URL and referrer carry a query string, or a track call with custom (undeclared) properties.

What it does not cover (HTTP parsing, FastAPI routing, the group writer's hand-overs) is the
difference to the server CPU per event that ``benchmarks/collector.py`` prints.
"""

import argparse
import tempfile
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks.collector import EVENT as PRODUCT
from cdp.config import load_settings
from cdp.eventstore import event_id, open_event_store
from cdp.privacy.keystore import KeyStore
from cdp.privacy.sealing import Sealer
from ingestion.jsontext import nests_at_most
from ingestion.segment import Request, to_envelope
from ingestion.validation import MAX_DEPTH, validate

PAGE = (
    b'{"type":"page","name":"Shoes","anonymousId":"anon-%d","messageId":"%s-%d","timestamp":"2025-11-20T09:00:00.000Z",'
    b'"properties":{"url":"https://shop.example.com/shoes/p-%d?utm_source=news&email=ann%%40example.com","path":"/shoes","title":"Shoes",'
    b'"referrer":"https://mail.example.net/inbox/ann?q=order#m1"},"context":{"ip":"10.0.0.1","userAgent":"Mozilla/5.0"},"integrations":{}}'
)
CUSTOM = (
    b'{"type":"track","event":"Video Played","anonymousId":"anon-%d","messageId":"%s-%d","timestamp":"2025-11-20T09:00:00.000Z",'
    b'"properties":{"video_id":"v-%d","position":42,"quality":"hd","note":"for Ann Lee"},"context":{"ip":"10.0.0.1"},"integrations":{}}'
)
EVENTS = {"product": PRODUCT, "page": PAGE, "custom": CUSTOM}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--event", choices=EVENTS, default="product")
    args = parser.parse_args()
    n, event = args.batch, EVENTS[args.event]
    bodies = [b'{"batch":[' + b",".join(event % (i % 5000, b"b", r * n + i, i % 300) for i in range(n)) + b'],"sentAt":"2025-11-20T09:00:01.000Z"}' for r in range(args.requests)]
    received = datetime.now(UTC)
    decoded = [orjson.loads(body) for body in bodies]
    requests = [Request("bench", received, d["sentAt"], {}, {}, shallow=True) for d in decoded]
    mapped = [[to_envelope(m, request) for m in d["batch"]] for d, request in zip(decoded, requests, strict=True)]
    envelopes = [[validate(e, received) for e in batch] for batch in mapped]
    events = args.requests * n

    def stage(name: str, run: Callable[[], object]) -> float:
        seconds = min(timeit.repeat(run, number=1, repeat=5)) / events * 1e6
        print(f"{name:<44} {seconds:6.2f} µs/event")
        return seconds

    total = sum(
        [
            stage("orjson.loads of the body", lambda: [orjson.loads(b) for b in bodies]),
            stage("nesting check of the body (nests_at_most)", lambda: [nests_at_most(b, MAX_DEPTH + 1) for b in bodies]),
            stage("Segment mapping (to_envelope)", lambda: [to_envelope(m, r) for d, r in zip(decoded, requests, strict=True) for m in d["batch"]]),
            stage("validation (pydantic, discriminated union)", lambda: [validate(e, received) for batch in mapped for e in batch]),
        ]
    )
    print(f"{'in-process total before sealing':<44} {total:6.2f} µs/event")
    writes = [[envelope for batch in envelopes[first : first + 10] for envelope in batch] for first in range(0, len(envelopes), 10)]
    with tempfile.TemporaryDirectory(prefix="cdp-stages-") as tmp:
        sealer = Sealer(KeyStore(Path(tmp) / "keys.sqlite", b"benchmark master key"), load_settings(data_dir=Path(tmp)).identity)
        started = time.process_time()
        rows = [sealer.seal(write) for write in writes]
        print(f"{'sealing (serialise, encrypt), first sight':<44} {(time.process_time() - started) / events * 1e6:6.2f} µs/event CPU")
        stage("sealing, subjects seen before", lambda: [sealer.seal(write) for write in writes])
    stage("event id (uuid5 as hex)", lambda: [event_id(s, m) for write in rows for s, m, _ in write])
    with tempfile.TemporaryDirectory(prefix="cdp-stages-") as tmp:
        store = open_event_store(load_settings(data_dir=Path(tmp)))
        started, cpu = time.perf_counter(), time.process_time()
        for write in rows:
            store.append(write)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.close()
    print(f"{'SQLite append, one commit per 10 requests':<44} {cpu / events * 1e6:6.2f} µs/event CPU, {wall / events * 1e6:6.2f} µs/event wall (fsync)")


if __name__ == "__main__":
    main()
