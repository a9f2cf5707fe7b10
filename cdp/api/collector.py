"""What the collector does with one request: authenticate, decode, sort into events and dead
letters, write durably (group commit), answer. The FastAPI routes in ``cdp.api.app`` call it."""

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from cdp.api.auth import authenticate, basic_write_key, body_write_key
from cdp.api.body import BodiesOverBudget, BodyBudget, decode_content, parse_json, read_body
from cdp.api.refusals import Refused, bad_request, too_large, unauthorized
from cdp.api.writer import GroupWriter, Overloaded
from cdp.config import CollectorSettings
from cdp.sources import Source, SourceRegistry
from ingestion.deadletter import DeadLetter
from ingestion.sdk import Connector, QuerySignedConnector, SignedConnector, sort_records
from ingestion.jsontext import nests_at_most
from ingestion.segment import batch_of, to_envelope
from ingestion.segment import Request as SegmentRequest
from ingestion.sorting import Sorted, sort_items
from ingestion.track_mapping import TrackMapping, default_mapping
from ingestion.validation import MAX_DEPTH, Invalid, now
from schemas import Envelope

log = logging.getLogger("cdp.collector")
# one answer whether the source exists or not, so that source names cannot be found by trying them
WEBHOOK_REFUSED = "webhook: refused; the source does not exist, or the write key or the signature is missing or wrong"
NO_SUBSCRIPTION_CHECK = (
    "query: no subscription check to answer; a tool's check needs the source's write key as its verify token (Meta's hub.challenge), "
    "or a query signed with the source's signing secret (WeChat's echostr, signed with the account's token)"
)


@dataclass
class Collector:
    settings: CollectorSettings
    sources: SourceRegistry
    writer: GroupWriter
    connectors: dict[str, type[Connector]]
    runner: Mapping[str, Any] = field(default_factory=dict)  # the embedded runner's progress, when it follows
    quarantined: Callable[[], int] = lambda: 0  # how many events the runner has quarantined (read from the store)
    track_mapping: TrackMapping = field(default_factory=default_mapping)  # Segment track names → typed events (settings.ingestion)
    _accepted_keys: dict[str, Source] = field(default_factory=dict, init=False, repr=False)
    _keys_generation: tuple[int, int] = field(default=(0, 0), init=False, repr=False)
    bodies: BodyBudget = field(init=False)  # the request bodies this process holds (collector.max_body_bytes_held)

    def __post_init__(self) -> None:
        self.bodies = BodyBudget(self.settings.max_body_bytes_held, self.settings.max_body_bytes_held_per_client)

    async def segment(self, request: Request, call_type: str | None) -> dict[str, Any]:
        """One Segment call (``call_type``) or a batch (``None``)."""
        return await self._within_budget(self._segment, request, call_type)

    async def webhook(self, request: Request, source_name: str) -> dict[str, Any] | str:
        """One webhook delivery to a connector source; the answer is the connector's plain-text
        acknowledgement if the tool expects one (WeChat's ``success``), else the JSON answer."""
        return await self._within_budget(self._webhook, request, source_name)

    async def _within_budget(self, handle: Callable[..., Awaitable[Any]], request: Request, argument: str | None) -> Any:
        """Handles a request with its body bytes counted against the process's budget (429 past it)."""
        with self.bodies.hold(request.client.host if request.client else "") as take:
            try:
                return await handle(request, argument, take)
            except BodiesOverBudget as over:
                raise self._overloaded(str(over)) from None

    async def _segment(self, request: Request, call_type: str | None, take: Callable[[int], None]) -> dict[str, Any]:
        self._refuse_if_overloaded()
        received_at = now()
        raw = await read_body(request, self.settings.max_body_bytes, take)
        header_key = basic_write_key(request.headers)
        source = self._authenticate(header_key) if header_key else None
        text, body = await self._decoded_json(request, raw, source, take)
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
        result = await self._sort_and_write(lambda check: sort_items(messages, to_envelopes, received_at, source.name, f"segment:{request.url.path}", limit, check=check, track_mapping=self.track_mapping))
        if call_type is not None and result.rejected:
            raise Refused(400, "invalid_event", result.rejected[0][1].reason + " (kept in the dead-letter store)")
        return _answer(result)

    async def _webhook(self, request: Request, source_name: str, take: Callable[[int], None]) -> dict[str, Any] | str:
        self._refuse_if_overloaded()
        received_at = now()
        raw = await read_body(request, self.settings.max_body_bytes, take)
        data = decode_content(raw, request.headers.get("content-encoding", ""), self.settings.max_body_bytes, take)
        source, connector = self._sender(source_name, request, data)
        if connector is None:
            raise bad_request(f"source {source.name!r} uses connector {source.connector!r}, which takes no webhooks here (Segment calls go to /v1/track, /v1/batch, ...)")
        if "webhook" not in connector.formats:
            raise bad_request(f"source {source.name!r} uses connector {connector.name!r}, which imports files (`cdp import`), not webhooks")
        limits = self.settings.limits_for(source.name)
        if len(data) > limits.max_batch_bytes:
            raise too_large(f"body: {len(data):,} bytes; this source's limit is {limits.max_batch_bytes:,}")
        result = await self._sort_and_write(lambda check: sort_records(connector, [data], source.name, received_at, f"webhook:{connector.name}", limits, request.headers, check=check, track_mapping=self.track_mapping))
        return _answer(result) if connector.acknowledgement is None else connector.acknowledgement

    def webhook_challenge(self, request: Request, source_name: str) -> str:
        """The answer to a tool's ``GET`` subscription check, once its verify token is shown to be
        this source's write key (Meta's ``hub.challenge``) or its query is signed with the source's
        signing secret (WeChat's ``echostr``); else one answer for every name."""
        source, connector = self._connector(source_name)
        challenge = connector.challenge(request.query_params) if connector else None
        if source is None or challenge is None:
            raise Refused(404, "not_found", NO_SUBSCRIPTION_CHECK)
        if isinstance(connector, QuerySignedConnector):
            proven = bool(source.signing_secret) and connector.verify_query(request.query_params, source.signing_secret or "")
        else:
            owner = self.sources.by_write_key(challenge[0]) if challenge[0] else None
            proven = owner is not None and owner.name == source.name
        if not proven:
            raise Refused(404, "not_found", NO_SUBSCRIPTION_CHECK)
        return challenge[1]

    def health(self, details: bool) -> dict[str, Any]:
        """``degraded`` while events are quarantined or the runner has stopped; the numbers only with ``details``."""
        quarantined = self.quarantined()
        status = "degraded" if quarantined or self.runner.get("state") == "stopped" else "ok"
        if not details:
            return {"status": status}
        return {"status": status, "quarantined": quarantined, "pending_events": self.writer.pending, "body_bytes_held": self.bodies.held, "writes": self.writer.writes, "runner": dict(self.runner)}

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

    def _connector(self, source_name: str) -> tuple[Source | None, Connector | None]:
        """The source of that name, and its connector if it takes webhooks here."""
        source = self.sources.by_name(source_name)
        connector_class = self.connectors.get(source.connector) if source else None
        return source, connector_class() if connector_class else None

    def _sender(self, source_name: str, request: Request, data: bytes) -> tuple[Source, Connector | None]:
        """The source a webhook delivery is for, once its signature (or else its write key) is
        shown to be that source's. Otherwise one answer, whether the source exists or not."""
        key = basic_write_key(request.headers) or request.query_params.get("write_key")  # malformed, or a read key: refused alike for every name
        source, connector = self._connector(source_name)
        if source is None:
            raise _not_this_source(f"{source_name[:64]!r}: no such source")
        if isinstance(connector, QuerySignedConnector):  # such a tool sends no write key: its token must be the source's signing secret
            if not source.signing_secret or not connector.verify_query(request.query_params, source.signing_secret):
                raise _not_this_source(f"{source.name!r}: the {connector.tool} signature in the query does not match the source's signing secret (or it has none)")
            return source, connector
        if isinstance(connector, SignedConnector) and source.signing_secret:
            if not connector.verify(data, request.headers, source.signing_secret):
                raise _not_this_source(f"{source.name!r}: the {connector.tool} signature does not match the body and the source's signing secret")
            return source, connector
        try:
            keyed = self._authenticate(key)
        except Refused as refusal:
            raise _not_this_source(f"{source.name!r}: {refusal.message}") from None
        if keyed.name != source.name:
            raise _not_this_source(f"{source.name!r}: the write key of source {keyed.name!r}")
        return source, connector

    async def _decoded_json(self, request: Request, raw: bytes, source: Source | None, take: Callable[[int], None]) -> tuple[bytes, Any]:
        """The body's JSON text once decompressed, and its value."""
        limit = self.settings.limits_for(source.name).max_batch_bytes if source else self.settings.max_body_bytes
        try:
            text = decode_content(raw, request.headers.get("content-encoding", ""), limit, take)
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

    async def _sort_and_write(self, sort: Callable[[Callable[[Envelope], object] | None], Sorted]) -> Sorted:
        """Sorts a request's input (``sort``, given ``sort_items``' ``check``) and writes it. The
        writer serialises each request's events apart from the others'; if one of this request's
        cannot be, the input is sorted again checking every event, so the items holding such events
        are dead-lettered with the reason and the rest stored."""
        result = sort(None)
        try:
            await self._write(result)
        except Invalid:
            result = sort(self.writer.check)
            await self._write(result)
        return result

    async def _write(self, result: Sorted) -> None:
        """Writes a request's events and dead letters durably. A store error is answered with an id
        under which the server log holds it: the error may quote another request written together
        with this one (group commit)."""
        try:
            await self.writer.write(result.events, result.letters)
        except Overloaded as overload:
            raise self._overloaded(str(overload)) from None
        except Invalid:
            raise  # one of this request's events cannot be written (see _sort_and_write)
        except Exception as error:  # the store's own errors; the client may retry
            error_id = secrets.token_hex(6)
            log.error("the event store could not write a request (error id %s)", error_id, exc_info=error)
            raise Refused(503, "store_unavailable", f"the event store could not write this request (error id {error_id}); retry later", {"Retry-After": "1"}) from None

    def _refuse_if_overloaded(self) -> None:
        if self.writer.pending >= self.settings.max_pending_events:
            raise self._overloaded(f"{self.writer.pending:,} events are waiting to be written")

    def _overloaded(self, why: str) -> Refused:
        seconds = str(self.settings.retry_after_seconds)
        return Refused(429, "overloaded", f"too many requests: {why}; retry after {seconds}s", {"Retry-After": seconds})


def _not_this_source(reason: str) -> Refused:
    """A webhook delivery refused, the same for a source that does not exist as for a wrong or
    missing write key or signature; the audit log records the ``reason``."""
    return unauthorized(WEBHOOK_REFUSED, reason=reason)


def _answer(result: Sorted) -> dict[str, Any]:
    answer: dict[str, Any] = {"success": True}
    if result.rejected:
        answer["dead_lettered"] = [{"index": index, "reason": letter.reason} for index, letter in result.rejected]
    return answer
