"""What the collector does with one request: authenticate, decode, sort into events and dead
letters, write durably (group commit), answer. The FastAPI routes in ``cdp.api.app`` call it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from cdp.api.auth import authenticate, basic_write_key, body_write_key
from cdp.api.body import decode_content, parse_json, read_body
from cdp.api.refusals import Refused, bad_request, unauthorized
from cdp.api.writer import GroupWriter, Overloaded
from cdp.config import CollectorSettings
from cdp.sources import Source, SourceRegistry
from ingestion.deadletter import DeadLetter
from ingestion.sdk import Connector, SignedConnector, sort_records
from ingestion.jsontext import nests_at_most
from ingestion.segment import batch_of, to_envelope
from ingestion.segment import Request as SegmentRequest
from ingestion.sorting import Sorted, sort_items
from ingestion.validation import MAX_DEPTH, Invalid, now


@dataclass
class Collector:
    settings: CollectorSettings
    sources: SourceRegistry
    writer: GroupWriter
    connectors: dict[str, type[Connector]]
    runner: Mapping[str, Any] = field(default_factory=dict)  # the embedded runner's progress, when it follows
    _accepted_keys: dict[str, Source] = field(default_factory=dict, init=False, repr=False)
    _keys_generation: tuple[int, int] = field(default=(0, 0), init=False, repr=False)

    async def segment(self, request: Request, call_type: str | None) -> dict[str, Any]:
        """One Segment call (``call_type``) or a batch (``None``)."""
        self._refuse_if_overloaded()
        received_at = now()
        raw = await read_body(request, self.settings.max_body_bytes)
        header_key = basic_write_key(request.headers)
        source = self._authenticate(header_key) if header_key else None
        text, body = await self._decoded_json(request, raw, source)
        shallow = nests_at_most(text, MAX_DEPTH + 1)
        source = source or self._authenticate(body_write_key(body))
        if call_type is None:
            try:
                messages, segment_request = batch_of(text, body, source.name, received_at, shallow, self.settings.limits_for(source.name).max_batch_bytes)
            except Invalid as error:
                raise await self._kept(source, request, raw, bad_request(str(error))) from None
            to_envelopes = lambda message: [to_envelope(message, segment_request)]  # noqa: E731
        else:
            messages, single = [text], SegmentRequest(source.name, received_at, shallow=shallow)  # a dead letter keeps the text as sent
            to_envelopes = lambda _: [to_envelope(body, single, call_type)]  # noqa: E731
        limit = self.settings.limits_for(source.name).max_event_bytes
        result = sort_items(messages, to_envelopes, received_at, source.name, f"segment:{request.url.path}", limit)
        await self._write(result)
        if call_type is not None and result.rejected:
            raise Refused(400, "invalid_event", result.rejected[0][1].reason + " (kept in the dead-letter store)")
        return _answer(result)

    async def webhook(self, request: Request, source_name: str) -> dict[str, Any]:
        """One webhook delivery to a connector source."""
        self._refuse_if_overloaded()
        received_at = now()
        source, connector = self._connector(source_name)
        if "webhook" not in connector.formats:
            raise bad_request(f"source {source.name!r} uses connector {connector.name!r}, which imports files (`cdp import`), not webhooks")
        limits = self.settings.limits_for(source.name)
        data = decode_content(await read_body(request, self.settings.max_body_bytes), request.headers.get("content-encoding", ""), limits.max_batch_bytes)
        self._check_sender(connector, source, request, data)
        result = sort_records(connector, [data], source.name, received_at, f"webhook:{connector.name}", limits.max_event_bytes, request.headers)
        await self._write(result)
        return _answer(result)

    def webhook_challenge(self, request: Request, source_name: str) -> str:
        """The answer to a tool's ``GET`` subscription check (Meta's ``hub.challenge``), once its
        verify token is shown to be this source's write key."""
        connector = self._connector(source_name)[1]
        challenge = connector.challenge(request.query_params)
        if challenge is None:
            raise bad_request(f"query: not a subscription check of {connector.tool} (webhooks are delivered with POST)")
        token, answer = challenge
        source = self.sources.by_write_key(token) if token else None
        if source is None or source.name != source_name:
            raise Refused(403, "forbidden", f"verify token: not the write key of source {source_name[:64]!r}; set the source's write key as the verify token")
        return answer

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "pending_events": self.writer.pending, "writes": self.writer.writes, "runner": dict(self.runner)}

    def _authenticate(self, key: str | None) -> Source:
        """``authenticate``, remembering the keys it accepted until the registry changes (a key
        rotated or revoked): a registry query per request costs the event loop a GIL hand-over
        to the writer thread."""
        generation = self.sources.generation()
        if generation != self._keys_generation:
            self._accepted_keys.clear()
            self._keys_generation = generation
        known = self._accepted_keys.get(key or "")
        if known is not None:
            return known
        source = authenticate(self.sources, key)  # refuses a missing, unknown or revoked key
        self._accepted_keys[key or ""] = source
        return source

    def _connector(self, source_name: str) -> tuple[Source, Connector]:
        source = self.sources.by_name(source_name)
        if source is None:
            raise Refused(404, "unknown_source", f"source: no source is named {source_name[:64]!r}")
        connector_class = self.connectors.get(source.connector)
        if connector_class is None:
            raise bad_request(f"source {source.name!r} uses connector {source.connector!r}, which takes no webhooks here (Segment calls go to /v1/track, /v1/batch, ...)")
        return source, connector_class()

    def _check_sender(self, connector: Connector, source: Source, request: Request, data: bytes) -> None:
        if isinstance(connector, SignedConnector) and source.signing_secret:
            if not connector.verify(data, request.headers, source.signing_secret):
                raise unauthorized(f"signature: the {connector.tool} signature does not match the body and this source's signing secret")
            return
        key = basic_write_key(request.headers) or request.query_params.get("write_key")
        if self._authenticate(key).name != source.name:
            raise unauthorized(f"write key: belongs to another source than {source.name!r}")

    async def _decoded_json(self, request: Request, raw: bytes, source: Source | None) -> tuple[bytes, Any]:
        """The body's JSON text once decompressed, and its value."""
        limit = self.settings.limits_for(source.name).max_batch_bytes if source else self.settings.max_body_bytes
        try:
            text = decode_content(raw, request.headers.get("content-encoding", ""), limit)
            return text, parse_json(text)
        except Refused as refusal:
            if source is None or refusal.status == 413:
                raise
            raise await self._kept(source, request, raw, refusal) from None

    async def _kept(self, source: Source, request: Request, raw: bytes, refusal: Refused) -> Refused:
        """Dead-letters a refused request body of a known source, then returns the refusal."""
        await self._write(Sorted(rejected=[(0, DeadLetter(source.name, f"segment:{request.url.path}", refusal.message, raw))]))
        refusal.message += " (kept in the dead-letter store)"
        return refusal

    async def _write(self, result: Sorted) -> None:
        try:
            await self.writer.write(result.events, result.letters)
        except Overloaded as overload:
            raise self._overloaded(str(overload)) from None
        except Exception as error:  # the store's own errors; the client may retry
            raise Refused(503, "store_unavailable", f"the event store could not write: {type(error).__name__}: {error}", {"Retry-After": "1"}) from None

    def _refuse_if_overloaded(self) -> None:
        if self.writer.pending >= self.settings.max_pending_events:
            raise self._overloaded(f"{self.writer.pending:,} events are waiting to be written")

    def _overloaded(self, why: str) -> Refused:
        seconds = str(self.settings.retry_after_seconds)
        return Refused(429, "overloaded", f"too many requests: {why}; retry after {seconds}s", {"Retry-After": seconds})


def _answer(result: Sorted) -> dict[str, Any]:
    answer: dict[str, Any] = {"success": True}
    if result.rejected:
        answer["dead_lettered"] = [{"index": index, "reason": letter.reason} for index, letter in result.rejected]
    return answer
