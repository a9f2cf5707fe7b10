"""Refusals a client can read: a body over the limit gets its 413 even from a client that sends it
whole before reading (no ``Expect: 100-continue``), and a webhook's answer does not tell whether a
source of that name exists."""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from cdp.config import Settings
from cdp.platform import Platform
from tests.collector_server import RunningCollector, basic, running_collector

LIMIT = 2_000_000  # a body 3 times this outgrows the loopback socket buffers, as a real one outgrows the network's


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    settings.collector.limits = settings.collector.limits.model_copy(update={"max_batch_bytes": LIMIT})
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def urllib_post(running: RunningCollector, path: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(running.url + path, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("chunked", [False, True])
def test_urllib_reads_the_413_of_a_body_over_the_limit(collector: RunningCollector, chunked: bool) -> None:
    body = b'{"batch": [' + b'"x",' * (LIMIT * 3 // 4) + b'"x"]}'  # 3 times the limit
    sent = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    for _ in range(3):  # and again on new connections: nothing was left behind
        status, answer = urllib_post(collector, "/v1/batch", sent, {"Authorization": basic(collector.write_key)})
        assert status == 413 and answer["code"] == "payload_too_large", answer
        sent = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
