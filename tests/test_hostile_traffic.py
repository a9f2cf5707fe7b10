"""Hostile traffic beside normal traffic, against the real `cdp serve` (collector and runner in one
process, over a socket): over 1,000 generated hostile requests (depth, size, types, encodings,
duplicate keys, auth) from one source while another source sends normal batches. Then: no 5xx,
no normal request failed, every acknowledged event stored exactly once, every refused event
dead-lettered or answered 4xx, and the runner still processing (every stored event reached the
warehouse)."""

import base64
import gzip
import random
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import orjson

from cdp.config import load_settings
from cdp.platform import Platform
from tests.cli import cdp, serve
from tests.waiting import TLS, wait_until

HOSTILE_REQUESTS = 1200
NORMAL_BATCHES, NORMAL_BATCH_SIZE = 120, 25
LIMITS = {"CDP_COLLECTOR__LIMITS__MAX_BATCH_BYTES": "200000", "CDP_COLLECTOR__LIMITS__MAX_EVENT_BYTES": "20000"}


DEEP = "<deep>"  # stands for a nested value in a message, replaced in the JSON text (orjson writes at most 254 levels)


def nested(depth: int) -> bytes:
    """A JSON object nesting ``depth`` levels of objects and arrays."""
    return b"".join(b'{"a":' if i % 2 == 0 else b"[" for i in range(depth)) + b"1" + b"".join(b"}" if i % 2 == 0 else b"]" for i in reversed(range(depth)))


def deep(value: object, depth: int) -> bytes:
    return orjson.dumps(value).replace(orjson.dumps(DEEP), nested(depth))


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@dataclass
class Hostile:
    """One generated hostile request and the message ids it carries (stored only if acknowledged)."""

    kind: str
    path: str
    body: bytes
    message_ids: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def hostile_requests(key: str, other_key: str, count: int, seed: int = 18) -> Iterator[Hostile]:
    """Deterministic hostile requests, cycling through every kind with random parameters."""
    rng = random.Random(seed)
    serial = iter(range(10**9))

    def track(**extra: object) -> dict:
        return {"type": "track", "userId": f"evil-{rng.randrange(50)}", "event": "Clicked", "messageId": f"evil-{next(serial)}"} | extra

    def batch(messages: list[dict], depth: int = 0, **body: object) -> tuple[bytes, list[str]]:
        return deep({"batch": messages, **body}, depth), [m["messageId"] for m in messages]

    def single(message: dict, depth: int) -> tuple[bytes, list[str]]:
        return deep(message, depth), [message["messageId"]]

    def kinds() -> list[tuple[str, Callable[[], Hostile]]]:
        return [
            ("deep batch context", lambda: Hostile("deep batch context", "/v1/batch", *batch([track()], rng.randint(33, 1100), context=DEEP))),
            ("deep message", lambda: Hostile("deep message", "/v1/batch", *batch([track(), track(properties={"x": DEEP}), track()], rng.randint(32, 1100)))),
            ("deep single call", lambda: Hostile("deep single call", "/v1/track", *single(track(context={"x": DEEP}), rng.randint(32, 1100)))),
            ("past the parser's depth", lambda: Hostile("past the parser's depth", "/v1/batch", b'{"batch": [' + b"[" * rng.randint(1100, 30000) + b"]" * 5 + b"]}")),
            ("oversized body", lambda: Hostile("oversized body", "/v1/batch", *batch([track(properties={"blob": "x" * rng.randint(210_000, 400_000)})]))),
            ("oversized event", lambda: Hostile("oversized event", "/v1/batch", *batch([track(), track(properties={"blob": "x" * rng.randint(21_000, 60_000)})]))),
            ("wrong types", lambda: Hostile("wrong types", "/v1/batch", *batch([track(userId={"a": 1}), track(properties="x"), track(timestamp=12), track()]))),
            ("batch not a list", lambda: Hostile("batch not a list", "/v1/batch", b'{"batch": {"type": "track"}}')),
            ("context not an object", lambda: Hostile("context not an object", "/v1/batch", *batch([track()], context=rng.choice([[1], "x", 3, True])))),
            ("two batch keys", lambda: Hostile("two batch keys", "/v1/batch", b'{"batch": [], "batch": ' + orjson.dumps([track()]) + b"}")),
            ("same messageId, other content", lambda: Hostile("same messageId, other content", "/v1/batch", *_same_id(track))),
            ("malformed JSON", lambda: Hostile("malformed JSON", "/v1/batch", orjson.dumps({"batch": [track()]})[: rng.randint(1, 30)])),
            ("NaN", lambda: Hostile("NaN", "/v1/track", b'{"userId": "u", "event": "E", "properties": {"x": NaN}}')),
            ("invalid UTF-8", lambda: Hostile("invalid UTF-8", "/v1/track", b'{"userId": "\xff\xfe", "event": "E"}')),
            ("UTF-16", lambda: Hostile("UTF-16", "/v1/batch", orjson.dumps({"batch": [track()]}).decode().encode("utf-16"))),
            ("corrupt gzip", lambda: Hostile("corrupt gzip", "/v1/batch", b"\x1f\x8b" + rng.randbytes(40), headers={"content-encoding": "gzip"})),
            ("gzip bomb", lambda: Hostile("gzip bomb", "/v1/batch", gzip.compress(b'{"batch": [' + b" " * 3_000_000 + b"]}"), headers={"content-encoding": "gzip"})),
            ("unknown encoding", lambda: Hostile("unknown encoding", "/v1/batch", b"{}", headers={"content-encoding": rng.choice(["br", "zstd", "compress"])})),
            ("unknown fields", lambda: Hostile("unknown fields", "/v1/batch", *batch([track(evil=1)], evil=2))),
            ("missing key", lambda: Hostile("missing key", "/v1/track", orjson.dumps(track()), [], headers={"authorization": ""})),
            ("unknown key", lambda: Hostile("unknown key", "/v1/track", orjson.dumps(track()), [], headers={"authorization": basic("nope-" + rng.randbytes(6).hex())})),
            ("garbage auth", lambda: Hostile("garbage auth", "/v1/track", orjson.dumps(track()), [], headers={"authorization": rng.choice(["Basic %%%", "Bearer x", "Basic " + "A" * 5000])})),
            ("writeKey of another source in the body", lambda: Hostile("writeKey in the body", "/v1/track", orjson.dumps(track(writeKey=other_key + "x")), [], headers={"authorization": ""})),
            ("hostile strings", lambda: Hostile("hostile strings", "/v1/batch", *batch([track(event="=HYPERLINK(\"http://x\")", properties={"n": "<script>alert(1)</script>", "\u0000k": "\u202e" * 50})]))),
        ]

    def _same_id(track: Callable[..., dict]) -> tuple[bytes, list[str]]:
        first = track()
        second = track(messageId=first["messageId"], event="Other")
        return orjson.dumps({"batch": [first, second]}), [first["messageId"]]

    makers = kinds()
    for i in range(count):
        request = makers[i % len(makers)][1]()
        request.headers = {"authorization": basic(key), "content-type": "application/json"} | request.headers
        request.headers = {k: v for k, v in request.headers.items() if v}
        yield request


def test_hostile_traffic_fails_no_normal_request_and_loses_nothing(tmp_path):
    data = tmp_path / "data"
    normal_key = _source(data, "shop")
    evil_key = _source(data, "evil")
    admin = cdp("keys", "create", "ops", "--scope", "admin", data_dir=data).stdout.decode().strip().splitlines()[-1]
    server, url = serve(data, LIMITS)
    statuses: Counter = Counter()
    acknowledged: list[str] = []  # evil message ids the collector acknowledged as stored
    kept = Counter()  # what the collector said it dead-lettered: events inside 200 answers, bodies of 4xx answers
    normal_failures: list[str] = []
    lock = threading.Lock()
    try:
        wait_until(lambda: httpx.get(url + "/health", verify=TLS).status_code == 200)

        def send_hostile(request: Hostile) -> None:
            with httpx.Client(base_url=url, timeout=20, verify=TLS) as http:
                response = http.post(request.path, content=request.body, headers=request.headers)
            with lock:
                statuses[(request.kind, response.status_code)] += 1
            assert response.status_code < 500, (request.kind, response.status_code, response.text[:300])
            assert "Traceback" not in response.text and ".py" not in response.text, response.text[:300]
            if response.status_code == 200:
                refused = {entry["index"] for entry in response.json().get("dead_lettered", [])}
                with lock:
                    acknowledged.extend(m for i, m in enumerate(request.message_ids) if i not in refused)
                    kept["events"] += len(refused)
            else:
                assert 400 <= response.status_code < 500 and response.json()["message"], response.text[:300]
                if "kept in the dead-letter store" in response.json()["message"]:
                    with lock:
                        kept["bodies"] += 1

        def send_normal(n: int) -> None:
            batch = [{"type": "track", "userId": f"c-{n % 40}", "event": "Product Viewed", "messageId": f"shop-{n}-{i}", "properties": {"product_id": f"p{i}"}} for i in range(NORMAL_BATCH_SIZE)]
            with httpx.Client(base_url=url, auth=(normal_key, ""), timeout=20, verify=TLS) as http:
                response = http.post("/v1/batch", json={"batch": batch})
            if response.status_code != 200 or response.json() != {"success": True}:
                with lock:
                    normal_failures.append(f"{response.status_code} {response.text[:200]}")

        requests = list(hostile_requests(evil_key, normal_key, HOSTILE_REQUESTS))
        failed = threading.Event()  # the first failure stops the other senders: the test fails fast

        def unless_failed(send: Callable, item: object) -> None:
            if failed.is_set():
                return
            try:
                send(item)
            except BaseException:
                failed.set()
                raise

        with ThreadPoolExecutor(6) as pool:
            normal = [pool.submit(unless_failed, send_normal, n) for n in range(NORMAL_BATCHES)]
            hostile = [pool.submit(unless_failed, send_hostile, r) for r in requests]
        for future in [*hostile, *normal]:
            future.result()
        assert normal_failures == [], normal_failures[:5]
        print(sorted(statuses.items()))  # shown with -s, or when the test fails
        assert len({kind for kind, _ in statuses}) >= 20, statuses

        with Platform(load_settings(data_dir=data)) as platform:
            stored = platform.events.last_position()
        admin_health = lambda: httpx.get(url + "/health", headers={"authorization": f"Bearer {admin}"}, verify=TLS).json()  # noqa: E731
        wait_until(lambda: admin_health()["runner"].get("position", 0) >= stored, seconds=120)
        health = admin_health()
        assert health["status"] == "ok" and health["runner"]["state"] == "following", health
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=90)
        print(stderr.decode()[-4000:], file=sys.stderr)
    assert server.returncode in (0, 130) and b"Traceback" not in stderr, stderr.decode()[-2000:]  # 130: stopped by SIGINT, as uvicorn reports it

    with Platform(load_settings(data_dir=data)) as platform:
        events = [orjson.loads(n.state) for n in platform.events.read(0, 1_000_000)]
        letters = platform.dead_letters.count()
    by_source = Counter((e["source_name"], e["message_id"]) for e in events)
    assert max(by_source.values()) == 1
    assert {m for s, m in by_source if s == "shop"} == {f"shop-{n}-{i}" for n in range(NORMAL_BATCHES) for i in range(NORMAL_BATCH_SIZE)}
    assert {m for s, m in by_source if s == "evil"} == set(acknowledged)
    assert letters == kept["events"] + kept["bodies"], (letters, kept)

    warehouse = cdp("sql", "SELECT source_name, count() AS n, uniqExact(message_id) AS u FROM cdp.events GROUP BY source_name ORDER BY source_name", "--format", "json", data_dir=data)
    assert warehouse.returncode == 0, warehouse.stderr
    rows = {row["source_name"]: (int(row["n"]), int(row["u"])) for row in orjson.loads(warehouse.stdout)}
    assert rows["shop"] == (NORMAL_BATCHES * NORMAL_BATCH_SIZE,) * 2
    assert rows.get("evil", (0, 0)) == (len(acknowledged),) * 2


def _source(data, name: str) -> str:
    return cdp("sources", "add", name, "--kind", "website", data_dir=data).stdout.decode().strip().splitlines()[-1]
