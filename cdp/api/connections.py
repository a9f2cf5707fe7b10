"""Bounds on the collector's connections, below the HTTP parser: a slow or idle client cannot hold
the server's sockets.

uvicorn closes a connection idle between requests (``timeout_keep_alive``), but not one whose
request never finishes: a client sending half its headers (slowloris), or nothing at all, or a
body a byte at a time, kept its socket for ever, and ~20,000 of them used up the process's file
descriptors. ``GuardedHTTP`` wraps uvicorn's own HTTP protocol (httptools, else h11) and closes
a connection whose request headers do not arrive within ``header_timeout`` of its first byte (or
of the connection), or whose body does not arrive within ``body_timeout`` of the headers. A new
connection past ``per_client`` from one address is answered 429 and closed at once, before
anything is read. Past ``total`` in all, the connection that has waited longest for its headers
is closed (408) to make room, so half-requests from many addresses cannot lock out a client
whose request arrives whole; only when every connection is busy with a request is the new one
answered 503. The limits hold per collector process.

uvicorn's ``limit_concurrency`` is no help here: it answers 503 to complete requests once too
many connections are open, so half-requests would keep their sockets and lock everyone else out.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from uvicorn.protocols.http.auto import AutoHTTPProtocol


@dataclass
class ConnectionLimits:
    """The limits, and the connections one process holds by client address."""

    header_timeout: float
    body_timeout: float
    per_client: int
    total: int
    open: Counter[str] = field(default_factory=Counter, init=False)
    count: int = field(default=0, init=False)
    awaiting_headers: dict["GuardedHTTP", None] = field(default_factory=dict, init=False)  # oldest first

    def admit(self, client: str) -> bytes | None:
        """Counts a new connection from ``client``; or, over a limit, the answer that refuses it."""
        if self.open[client] >= self.per_client:
            return _refusal(429, "Too Many Requests", "too_many_connections", f"more than {self.per_client} open connections from this address")
        if self.count >= self.total:
            if not self.awaiting_headers:
                return _refusal(503, "Service Unavailable", "too_many_connections", f"the collector holds {self.total} connections; retry shortly")
            next(iter(self.awaiting_headers)).late()  # closed soon (its place is freed when it is lost), out of the queue now
        self.open[client] += 1
        self.count += 1
        return None

    def release(self, client: str) -> None:
        self.open[client] -= 1
        self.count -= 1
        if not self.open[client]:
            del self.open[client]

    def protocol(self, **uvicorn_arguments: Any) -> "GuardedHTTP":
        """Builds a connection's protocol; ``uvicorn.Config(http=limits.protocol)`` uses it."""
        return GuardedHTTP(self, AutoHTTPProtocol(**uvicorn_arguments))


class GuardedHTTP(asyncio.Protocol):
    """uvicorn's protocol for one connection, closed when its request is late.

    Both of uvicorn's parsers start a new ``cycle`` once a request's headers are in and set its
    ``more_body`` to false once its body is: that tells where the request stands after each read.
    """

    def __init__(self, limits: ConnectionLimits, http: Any):
        self._limits = limits
        self._http = http
        self._transport: Any = None
        self._client: str | None = None  # set once admitted
        self._cycle: Any = None  # the request whose headers arrived last
        self._awaiting = "headers"  # "headers" or "body" while a deadline runs, else "" (handled, or idle between requests)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:  # uvloop's transports are no asyncio.Transport
        self._transport = transport
        peer = transport.get_extra_info("peername")
        client = str(peer[0]) if peer else ""
        refusal = self._limits.admit(client)
        if refusal is not None:
            transport.write(refusal)
            transport.close()
            return
        self._client = client
        self._http.connection_made(transport)
        self._expect("headers", self._limits.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._client is None:  # refused
            return
        self._http.data_received(data)
        if self._transport.is_closing():
            return
        cycle = self._http.cycle
        if cycle is not self._cycle:  # a request's headers arrived
            self._cycle = cycle
            if cycle.more_body:
                self._expect("body", self._limits.body_timeout)
            else:
                self._expect("")
        elif self._awaiting == "body" and not cycle.more_body:
            self._expect("")
        elif not self._awaiting:  # the first bytes of the next request
            self._expect("headers", self._limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._client is None:
            return
        self._expect("")
        self._limits.release(self._client)
        self._client = None
        self._http.connection_lost(exc)

    def eof_received(self) -> bool | None:
        return self._http.eof_received() if self._client is not None else None

    def pause_writing(self) -> None:
        self._http.pause_writing()

    def resume_writing(self) -> None:
        self._http.resume_writing()

    def late(self) -> None:
        """The request is late (or its place is needed): closed, with a 408 when no response is under way."""
        cycle = self._http.cycle
        if self._awaiting == "headers" and (cycle is None or cycle.response_complete):
            self._transport.write(_refusal(408, "Request Timeout", "request_timeout", f"the request's headers did not arrive in time (within {self._limits.header_timeout:g}s, less when the collector is full)"))
        self._expect("")
        self._transport.close()

    def _expect(self, part: str, seconds: float = 0) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._limits.awaiting_headers.pop(self, None)
        self._awaiting, self._deadline = part, None
        if part:
            self._deadline = asyncio.get_running_loop().call_later(seconds, self.late)
        if part == "headers":
            self._limits.awaiting_headers[self] = None


def _refusal(status: int, reason: str, code: str, message: str) -> bytes:
    """A whole HTTP response written before the request is read, in the collector's error shape."""
    body = orjson.dumps({"success": False, "code": code, "message": message})
    retry = b"retry-after: 1\r\n" if status in (429, 503) else b""
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n".encode()
    return head + retry + b"\r\n" + body
