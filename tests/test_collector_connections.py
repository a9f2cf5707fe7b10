"""Slow and idle clients (slowloris) cannot hold the collector's sockets: half-sent requests are
closed within the header and body timeouts, connections are bounded per client address, and a
normal client is served meanwhile, from the same address or another (127.0.0.2 is loopback too)."""

import logging
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from cdp.config import Settings
from cdp.platform import Platform
from tests.collector_server import RunningCollector, basic, running_collector

HALF_REQUESTS = 300
TRACK = b'{"userId": "u1", "event": "Viewed"}'


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    settings.collector = settings.collector.model_copy(update={"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.5, "max_connections_per_client": 400})
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def connect(running: RunningCollector, source: str = "127.0.0.1") -> socket.socket:
    address = urlsplit(running.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=10, source_address=(source, 0))
    return sock


def request_head(running: RunningCollector, length: int) -> bytes:
    return f"POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: {basic(running.write_key)}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()


def closed_within(sockets: list[socket.socket], seconds: float) -> tuple[int, list[bytes]]:
    """How many of ``sockets`` the server closed within ``seconds``, and what it said before."""
    deadline, closed, said = time.monotonic() + seconds, 0, []
    for sock in sockets:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
            closed += 1
        except ConnectionResetError:
            closed += 1
        except TimeoutError:
            pass
        said.append(received)
        sock.close()
    return closed, said


def tracked(running: RunningCollector, source: str = "127.0.0.1") -> bytes:
    """A whole track call on a new connection, from ``source``: the status line of its answer."""
    with connect(running, source) as sock:
        sock.sendall(request_head(running, len(TRACK)) + TRACK)
        return sock.recv(65536).split(b"\r\n", 1)[0]


def test_half_sent_headers_are_closed_and_others_are_served(collector: RunningCollector) -> None:
    started = time.monotonic()
    half = [connect(collector) for _ in range(HALF_REQUESTS)]
    for n, sock in enumerate(half):
        sock.sendall(b"POST /v1/track HTTP/1.1\r\nHost: x\r\n" if n % 2 else b"")  # half the headers, or nothing at all
    served = time.monotonic()
    assert tracked(collector) == b"HTTP/1.1 200 OK"  # while all of them are open
    latency = time.monotonic() - served
    closed, said = closed_within(half, 4 - (time.monotonic() - started))  # the header timeout is 1 s
    assert closed == HALF_REQUESTS, f"{closed} of {HALF_REQUESTS} closed"
    assert latency < 2  # generous: the test machine is shared
    assert all(s.startswith(b"HTTP/1.1 408 Request Timeout") and b'"request_timeout"' in s for s in said)


def test_a_body_that_does_not_arrive_is_closed(collector: RunningCollector, caplog: pytest.LogCaptureFixture) -> None:
    with connect(collector) as sock:
        sock.sendall(request_head(collector, len(TRACK)) + TRACK[:10])
        started = time.monotonic()
        assert closed_within([sock], 4)[0] == 1
        assert 1.2 < time.monotonic() - started < 3
    time.sleep(0.2)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # a client gone is not the server's error


def test_a_slow_drip_of_headers_is_closed(collector: RunningCollector) -> None:
    """A byte every 0.2 s keeps resetting no idle timer: the headers' deadline is counted from their first byte."""
    with connect(collector) as sock:
        started = time.monotonic()
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for byte in b"POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                sock.send(bytes([byte]))
                time.sleep(0.2)
        assert time.monotonic() - started < 3


def test_keep_alive_requests_are_served(collector: RunningCollector) -> None:
    with collector.client() as http:
        for _ in range(3):
            assert http.post("/v1/track", content=TRACK).status_code == 200
            time.sleep(0.6)  # idle between requests for less than the header timeout each time, more in all


def test_connections_are_bounded_per_client_address(settings: Settings) -> None:
    settings.collector = settings.collector.model_copy(update={"max_connections_per_client": 20})
    with Platform(settings) as platform, running_collector(platform) as running:
        held = [connect(running) for _ in range(20)]
        for sock in held:
            sock.sendall(b"POST /v1/track HTTP/1.1\r\n")
        excess = connect(running)
        closed, said = closed_within([excess], 2)
        assert closed == 1 and said[0].startswith(b"HTTP/1.1 429 Too Many Requests")
        assert tracked(running, "127.0.0.2") == b"HTTP/1.1 200 OK"  # another address is served
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert tracked(running) == b"HTTP/1.1 200 OK"  # and this one again once it holds fewer


def test_past_the_bound_in_all_the_longest_waiting_half_request_makes_room(settings: Settings) -> None:
    settings.collector = settings.collector.model_copy(update={"max_connections": 10})
    with Platform(settings) as platform, running_collector(platform) as running:
        held = [connect(running, f"127.0.0.{2 + n % 2}") for n in range(10)]  # from two addresses: each under its own bound
        for sock in held:
            sock.sendall(b"POST /v1/track HTTP/1.1\r\n")
        time.sleep(0.1)
        assert tracked(running, "127.0.0.4") == b"HTTP/1.1 200 OK"
        closed, said = closed_within(held[:1], 1)
        assert closed == 1 and said[0].startswith(b"HTTP/1.1 408 Request Timeout")  # the oldest made room
        for sock in held[1:]:
            sock.close()


def test_past_the_bound_in_all_with_every_connection_busy_a_new_one_gets_503(settings: Settings) -> None:
    settings.collector = settings.collector.model_copy(update={"max_connections": 10})
    with Platform(settings) as platform, running_collector(platform) as running:
        busy = [connect(running) for _ in range(10)]
        for sock in busy:
            sock.sendall(request_head(running, len(TRACK)) + TRACK[:5])  # bodies under way: none may be evicted
        time.sleep(0.1)
        closed, said = closed_within([connect(running, "127.0.0.4")], 2)
        assert closed == 1 and said[0].startswith(b"HTTP/1.1 503 Service Unavailable") and b"retry-after: 1" in said[0]
        for sock in busy:
            sock.sendall(TRACK[5:])
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")  # and they complete
            sock.close()
