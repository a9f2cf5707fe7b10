"""Reads a request body within a size limit, undoing gzip/deflate, and decodes its JSON."""

import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from cdp.api.refusals import Refused, bad_request, too_large

_DRAINED = 4  # a refused body up to this many times the limit is read to its end before the answer
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "identity": None, "": None}


class BodiesOverBudget(Exception):
    """The bodies a process holds would pass its budget (``BodyBudget``): the request is to be refused, for now."""


class BodyBudget:
    """How many bytes of request bodies one process holds at once, in all and per client address:
    read, decoded, sorted into events, waiting for their write. Each request's bytes are counted as
    they arrive and given back when it is answered. Without it, 200 connections sending 5 MiB
    batches of 1 MiB events took one collector process to 4.2 GiB (a write key is public on a
    website; 256 connections per address, 4,096 in all), and the pending-events bound cannot see an
    event's size. The bytes are counted before the sender is authenticated (they are in memory
    either way), so without a share per address one client's slow bodies, with or without a key,
    held the whole budget and had everyone else refused. A request that would take its address past
    ``per_client``, or the process past ``limit``, while other requests hold bytes, is refused (429,
    retry later); one alone always goes on, up to the body limit."""

    def __init__(self, limit: int, per_client: int):
        self.limit = limit
        self.per_client = per_client
        self.held = 0
        self.by_client: Counter[str] = Counter()

    @contextmanager
    def hold(self, client: str) -> Iterator[Callable[[int], None]]:
        """For one request from ``client`` (its address): gives the function that counts its bytes
        as they arrive (raising ``BodiesOverBudget``), and gives them all back when the request ends."""
        mine = 0

        def take(size: int) -> None:
            nonlocal mine
            theirs = self.by_client[client]
            if theirs > mine and theirs + size > self.per_client:
                raise BodiesOverBudget(f"{theirs:,} bytes of requests from this address are in progress (limit {self.per_client:,} per address)")
            if self.held > mine and self.held + size > self.limit:
                raise BodiesOverBudget(f"{self.held:,} bytes of requests are in progress (limit {self.limit:,})")
            self.held += size
            self.by_client[client] = theirs + size
            mine += size

        try:
            yield take
        finally:
            self.held -= mine
            self.by_client[client] -= mine
            if not self.by_client[client]:
                del self.by_client[client]


async def read_body(request: Request, limit: int, take: Callable[[int], None] = lambda size: None) -> bytes:
    """The body as sent, refused with 413 as soon as it passes ``limit`` bytes; ``take`` counts each
    chunk as it arrives (``BodyBudget.hold``) and may refuse it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await _drain(request, request.stream(), 0, limit)
        raise too_large(f"body: {int(declared):,} bytes; the limit is {limit:,}")
    chunks, size = [], 0
    stream = request.stream()
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            await _drain(request, stream, size, limit)
            raise too_large(f"body: more than {limit:,} bytes; the limit is {limit:,}")
        try:
            take(len(chunk))
        except BodiesOverBudget:
            await _drain(request, stream, size, limit)  # read to its end, not kept: the client reads the answer
            raise
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Request, stream: AsyncIterator[bytes], size: int, limit: int) -> None:
    """Reads and discards the rest of a refused body, up to ``_DRAINED`` times ``limit`` in all, so
    that a client which sends its whole body before reading the answer (no ``Expect: 100-continue``:
    Python's urllib, many SDKs) reads the 413: answering and closing while it still sends made it
    see a connection reset, and retry. The collector's body timeout bounds how long it takes."""
    declared = request.headers.get("content-length", "")
    if "100-continue" in request.headers.get("expect", "").lower() or (declared.isdigit() and int(declared) > _DRAINED * limit):
        return  # the client waits for the answer, or would send too much: answered at once
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > _DRAINED * limit:
                return
    except ClientDisconnect:
        return


def decode_content(raw: bytes, encoding: str, limit: int, take: Callable[[int], None] = lambda size: None) -> bytes:
    """Undoes ``Content-Encoding`` (gzip, deflate) without ever holding more than ``limit`` bytes;
    ``take`` counts the inflated bytes, held besides the body (``BodyBudget.hold``)."""
    encoding = encoding.strip().lower()
    if encoding not in _WBITS:
        raise Refused(415, "unsupported_encoding", f"Content-Encoding: {encoding!r} is not supported; use gzip, deflate or none")
    wbits = _WBITS[encoding]
    if wbits is None:
        if len(raw) > limit:
            raise too_large(f"body: {len(raw):,} bytes; this source's limit is {limit:,}")
        return raw
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise bad_request(f"body: not valid {encoding} data ({error})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise too_large(f"body: more than {limit:,} bytes once decompressed; the limit is {limit:,}")
    if not inflater.eof:
        raise bad_request(f"body: truncated {encoding} data")
    take(len(data))
    return data


def parse_json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise bad_request(f"body: malformed JSON ({error}); NaN, Infinity and invalid UTF-8 are refused") from None


def expect_object(value: Any, what: str = "body") -> dict:
    if not isinstance(value, dict):
        raise bad_request(f"{what}: expected a JSON object")
    return value
