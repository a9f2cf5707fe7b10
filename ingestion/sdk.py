"""The connector SDK: a source is one class that maps a tool's payload to our events.

A connector declares the tool it mirrors, a pydantic model of one record of that tool's payload,
and ``map``, a generator of ``Touch``es. The SDK does the rest: validating the payload, building
envelopes with deterministic message ids (``<connector>:<touch key>``, so re-running an import
or a re-delivered webhook stores nothing twice), dead-lettering what does not fit, and, for
webhooks, checking the sender's signature. Connectors are found through the ``cdp.connectors``
entry-point group, so a third-party package ships one by declaring it in its ``pyproject.toml``.
See docs/write-a-connector.md.
"""

import csv
import hashlib
import hmac
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from ingestion.sorting import Sorted, sort_items
from ingestion.track_mapping import TrackMapping
from ingestion.validation import Invalid, Limits, decode_json, max_item_bytes
from schemas import PAYLOAD_BY_EVENT_TYPE, Envelope, SourceKind, describe

ENTRY_POINT_GROUP = "cdp.connectors"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")


@dataclass(frozen=True)
class Touch:
    """One event a connector yields. ``key`` must identify it uniquely and stably within the
    connector (e.g. ``f"{ticket_id}:opened"``); it becomes the message id."""

    key: str
    event_type: str
    occurred_at: Any
    identifiers: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


class Connector(ABC):
    """Subclass it, set the class attributes and implement ``map`` (``SignedConnector`` for a tool
    that signs its webhooks)."""

    name: ClassVar[str]  # how sources and commands refer to it, e.g. "zendesk"
    tool: ClassVar[str]  # the real tool and payload it mirrors, e.g. "Zendesk ticket event webhooks"
    source_kind: ClassVar[SourceKind]
    Record: ClassVar[type[BaseModel]]  # one record of the tool's payload
    formats: ClassVar[tuple[str, ...]] = ("webhook", "jsonl")  # what it accepts: webhook, jsonl, csv
    examples: ClassVar[tuple[Any, ...]] = ()  # payloads of the tool's real shape (bytes: a body as sent); the contract tests use them
    acknowledgement: ClassVar[str | None] = None  # the plain-text answer the tool expects to a delivery (WeChat's "success"); None: JSON

    def decode(self, data: bytes, max_bytes: int) -> Any:
        """One webhook body or file line (of at most ``max_bytes``) as a value for ``split``: JSON
        unless the tool sends something else; raises ``Invalid`` saying what is wrong."""
        return decode_json(data, max_bytes)

    def split(self, body: Any, headers: Mapping[str, str]) -> Iterable[Any]:
        """The records in one webhook body or file line (one, unless the tool batches)."""
        return [body]

    @abstractmethod
    def map(self, record: Any) -> Iterable[Touch]:
        """The touches one record makes (our events, each with a key for its message id)."""

    def challenge(self, query: Mapping[str, str]) -> tuple[str, str] | None:
        """A subscription check the tool sends as ``GET`` to the webhook URL before it delivers:
        ``(verify token, answer to send back)``, or None if the query is not one (or the tool sends none)."""
        return None


class SignedConnector(Connector):
    """A connector for a tool that signs its webhook bodies: implement ``verify`` and ``sign`` too."""

    @abstractmethod
    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        """Whether ``body`` carries a valid signature made with ``secret`` (headers are lower-case)."""

    @abstractmethod
    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        """The headers the tool would send with ``body``; the contract tests check ``verify`` with it."""


class QuerySignedConnector(Connector):
    """A connector for a tool that signs its deliveries in the URL's query (WeChat: a hash of a
    shared token, a timestamp and a nonce) rather than the body: implement ``verify_query`` and
    ``sign_query``. The collector refuses its deliveries unless the source has the token as its
    signing secret, and answers its ``GET`` subscription check only when the query is signed."""

    @abstractmethod
    def verify_query(self, query: Mapping[str, str], secret: str) -> bool:
        """Whether the query carries a valid signature made with ``secret``."""

    @abstractmethod
    def sign_query(self, secret: str, timestamp: str, nonce: str) -> dict[str, str]:
        """The query the tool would send; the contract tests check ``verify_query`` with it."""


def hmac_digest(secret: str, message: bytes) -> bytes:
    """HMAC-SHA256, what most tools sign webhooks with."""
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def same(expected: str | bytes, given: str | bytes | None) -> bool:
    """Constant-time comparison of a signature."""
    if given is None:
        return False
    as_bytes = (lambda v: v.encode() if isinstance(v, str) else v)
    return hmac.compare_digest(as_bytes(expected), as_bytes(given))


def envelopes(connector: Connector, item: Any, source_name: str, max_bytes: int, headers: Mapping[str, str] = {}) -> Iterator[dict[str, Any]]:
    """The envelope dicts of one webhook body or file line (of at most ``max_bytes``, see
    ``max_item_bytes``); raises ``Invalid`` naming the field.

    A connector that raises on input it did not expect costs that input only: it is dead-lettered
    with the error, never answered with a 500.
    """
    if isinstance(item, bytes):
        (item,) = _guarded(connector, "decode", lambda: [connector.decode(item, max_bytes)])
    for raw in _guarded(connector, "split", lambda: list(connector.split(item, headers))):
        try:
            record = connector.Record.model_validate(raw)
        except ValidationError as error:
            raise Invalid(f"{connector.name} payload: {describe(error)}") from None
        for touch in _guarded(connector, "map", lambda: list(connector.map(record))):
            payload = PAYLOAD_BY_EVENT_TYPE.get(touch.event_type)
            yield {
                "message_id": f"{connector.name}:{touch.key}",
                "event_type": touch.event_type,
                "source_kind": connector.source_kind if payload is None else payload.source_kind_from(connector.source_kind),
                "source_name": source_name,
                "occurred_at": touch.occurred_at,
                "identifiers": {k: v for k, v in touch.identifiers.items() if v not in (None, "")},
                "traits": touch.traits,
                "properties": {k: v for k, v in touch.properties.items() if v is not None},
                "context": {**touch.context, "connector": connector.name},
            }


def _guarded(connector: Connector, step: str, run: Callable[[], list]) -> list:
    try:
        return run()
    except Invalid:
        raise
    except Exception as error:  # a bug in a (possibly third-party) connector, on input it did not expect
        raise Invalid(f"{connector.name} connector: {step} failed on this payload ({type(error).__name__}: {error})") from None


def sort_records(
    connector: Connector,
    items: Iterable[Any],
    source_name: str,
    received_at: datetime,
    origin: str,
    limits: Limits,
    headers: Mapping[str, str] = {},
    start: int = 0,
    check: Callable[[Envelope], object] | None = None,
    track_mapping: TrackMapping | None = None,
) -> Sorted:
    """Webhook bodies or file lines → validated (and ``check``ed, and mapped, see ``sort_items``)
    events and dead letters, each item and event held to the source's ``limits`` (see ``max_item_bytes``)."""
    max_bytes = max_item_bytes(origin, limits)
    to_envelopes = lambda item: list(envelopes(connector, item, source_name, max_bytes, headers))  # noqa: E731
    return sort_items(items, to_envelopes, received_at, source_name, origin, limits.max_event_bytes, start, check, track_mapping)


def read_file_items(data: bytes, filename: str) -> list[Any]:
    """A file's items: CSV rows as dicts (by header), or JSON Lines lines as raw bytes."""
    if filename.lower().endswith(".csv"):
        text = data.decode("utf-8-sig", errors="replace")
        return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""))]
    return [line for line in (raw.strip() for raw in data.splitlines()) if line]


def connectors() -> tuple[dict[str, type[Connector]], dict[str, str]]:
    """Every installed connector by name, and the entry points that failed to load with why."""
    found: dict[str, type[Connector]] = {}
    broken: dict[str, str] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as error:  # a third-party package's import error must not break the CLI
            broken[point.name] = f"{type(error).__name__}: {error}"
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)) or not _NAME.match(getattr(loaded, "name", "")):
            broken[point.name] = f"{point.value} is not a Connector subclass with a valid name"
            continue
        found[loaded.name] = loaded
    return found, broken


def load_connector(name: str) -> Connector:
    found, broken = connectors()
    if name in found:
        return found[name]()
    if name in broken:
        raise Invalid(f"connector {name!r} failed to load: {broken[name]}")
    raise Invalid(f"unknown connector {name!r}; installed: {', '.join(sorted(found)) or 'none'}")
