"""Real receivers on loopback for the activation tests: a webhook endpoint that checks signatures and
keeps idempotency keys (failing and stalling at random when asked), and an SMTP server (aiosmtpd)."""

import hashlib
import hmac
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
from aiosmtpd.controller import Controller

from tests.services.ports import free_port


class _LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server with a real server's listen backlog: with the standard library's 5,
    sixteen connections opened at once (two dispatchers' eight sends) can overflow it on a loaded
    machine, which a real receiver would not do."""

    request_queue_size = 128


@dataclass
class Received:
    """What the webhook receiver saw: the first accepted body per idempotency key, how often each key
    was accepted, every request, and the requests whose signature did not check."""

    accepted: dict[str, dict] = field(default_factory=dict)
    acceptances: Counter = field(default_factory=Counter)
    requests: int = 0
    bad_signatures: list[str] = field(default_factory=list)
    failed: int = 0
    stalled: int = 0


class WebhookReceiver:
    """A threaded HTTP server: ``POST /hook`` is checked (``X-CDP-Signature`` over timestamp.body under
    ``secret``) and applied once per ``Idempotency-Key``, as a careful receiver does. With ``flaky``,
    a share of requests answer 500 or stall past the sender's timeout (``stall_seconds``) before
    being applied, so the sender must retry."""

    def __init__(self, secret: str, fail_rate: float = 0.0, stall_rate: float = 0.0, stall_seconds: float = 3.0, seed: int = 7):
        self.secret, self.received = secret, Received()
        self.fail_rate, self.stall_rate, self.stall_seconds = fail_rate, stall_rate, stall_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections open, as a real receiver does

            def log_message(self, *_):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (a killed dispatcher): nothing to check or apply
                    self.close_connection = True
                    return
                status = receiver.handle(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _LoopbackServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, headers, body: bytes) -> int:
        timestamp, key = headers.get("X-CDP-Timestamp", ""), headers.get("Idempotency-Key", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        with self._lock:
            self.received.requests += 1
            roll = self._random.random()
            if not hmac.compare_digest(expected, headers.get("X-CDP-Signature", "")):
                self.received.bad_signatures.append(key)
                return 401
            if roll < self.fail_rate:
                self.received.failed += 1
                return 500
        if roll < self.fail_rate + self.stall_rate:
            with self._lock:
                self.received.stalled += 1
            time.sleep(self.stall_seconds)  # the sender gave up meanwhile; applying it anyway is what makes a retry a duplicate
        with self._lock:
            if key not in self.received.accepted:
                self.received.accepted[key] = orjson.loads(body)
            self.received.acceptances[key] += 1
        return 200

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Mailbox:
    def __init__(self):
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpReceiver:
    """aiosmtpd on a loopback port, keeping every message it accepts."""

    def __init__(self):
        self.mailbox = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self.mailbox.messages

    def __enter__(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    def __exit__(self, *_) -> None:
        self.controller.stop()


class JsonReceiver:
    """A threaded HTTP server keeping the raw body of every POST (apprise's ``json://`` notifications)."""

    def __init__(self):
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def do_POST(self):
                receiver.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _LoopbackServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "JsonReceiver":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()
