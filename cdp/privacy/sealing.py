"""Sealing: the personal values of every event are stored encrypted with their subject's data key.

A codec around the event store. On ``append``, the envelope's personal values are left out of its
stored JSON and go, together, in one AES-256-GCM blob ``"sealed": {"key", "nonce", "data"}``
(associated data: the event's source and message id, so a blob cannot be moved to another event);
the blob holds them as the envelope's JSON has them (``{"identifiers": {"email": …}, "traits": …}``).
Personal are: the fields the schemas mark ``Personal[...]`` (``schemas.personal.personal_paths``),
the ``user_id`` and ``anonymous_id`` identifiers (see below), and the properties (and line-item
properties) the event type does not declare (``schemas.personal.undeclared``). Partly personal URLs
(``PersonalAfterPath``/``PersonalAfterHost``: a page's url, path and referrer) go in the blob whole
and stay in the stored JSON with their public part only (``https://shop.example.com/cart``, the
query string gone), written after the other properties. Both parts are serialised by pydantic from
the validated envelope, so sealing decodes nothing. Sealing is two steps: ``serialise`` (the two
parts and the subject, per envelope, no I/O: the collector's group writer runs it for each request
apart from the others, so an envelope that cannot be written fails its own request only) and
``seal_serialised`` (key lookups and encryption, once per write). After ``read``, each blob is
opened and the values go back in their places, so readers see the envelope as it was (personal keys come after
the others). Events stored before 2026-12-05 hold ``null`` in the personal places and their values
keyed by path (``{"identifiers/email": …}``); they open the same way. Events stored before
2026-12-06 hold their undeclared properties and whole URLs in clear: sealing cannot change what
the log already holds (once their key is shredded they open without them, as described below).

Subject key of an event: the data key of its first identifier, in the fixed order user_id, email,
phone, social handles, anonymous_id (``schemas.person_keys``), that the identity rules let join
customers (placeholders such as ``test@test.com`` or ``guest`` are skipped: they are shared by
unrelated people). An event with no such identifier gets a key of its own. Edge cases:
- An event naming two people whose merge the identity limits refused is sealed under the first
  one's key only; forgetting the second one does not shred that event.
- An event whose only identifiers are blocked placeholders has its own key, which no identifier
  finds: forgetting the customer it was assigned to does not shred it.
- The key is chosen when the event is appended: events appended while a customer is forgotten may
  be sealed with a key the forgetting deletes a moment later (they are then forgotten too).

When the key has been shredded (the person was forgotten), the event opens as erased: personal and
undeclared properties are dropped, URLs keep their public part (``schemas.personal.public_view``,
as the warehouse scrub leaves them), ``traits`` and ``context`` are empty, and the person identifiers are
replaced by one ``user_id`` ``erased:TOKEN`` (the forgetting's opaque erasure token), so the
forgotten person's events still resolve to one customer on a rebuild. ``user_id`` and
``anonymous_id`` are not marked personal in the schemas but are sealed for this reason: left in
clear they would tie the erased events back to a device or an account and split the customer.
"""

import binascii
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Notification
from pydantic_core import PydanticSerializationError

from cdp.eventstore import Appended, EventStore
from cdp.privacy.keystore import KeyStore, Shredded
from cdp.quarantine import poisoned
from ingestion.validation import Invalid
from projections.identity import IdentityRules
from projections.touchpoint import Touchpoint
from schemas import ENVELOPE_BY_EVENT_TYPE, PAYLOAD_BY_EVENT_TYPE, Envelope, Identifiers, Payload
from schemas.personal import PersonalUrlParts, partly_personal_paths, personal_paths, public_view, undeclared, union, url_parts

SEALED = "sealed"
ERASED_PREFIX = "erased:"
_SEALED_MARK = b'"sealed":'
_NONCE = 12
_IDENTITY_PATHS = (("identifiers", "user_id"), ("identifiers", "anonymous_id"))
PERSONAL_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    event_type: tuple(sorted({*personal_paths(model), *_IDENTITY_PATHS})) for event_type, model in ENVELOPE_BY_EVENT_TYPE.items()
}


def _fields(paths: Iterable[tuple[str, ...]]) -> dict:
    """Paths as pydantic's ``include``/``exclude`` argument; a path under another is inside that value already."""
    fields: dict = {}
    for path in sorted(paths, key=len):
        node = fields
        for name in path[:-1]:
            node = node.setdefault(name, {})
            if node is True:
                break
        else:
            node[path[-1]] = True
    return fields


def _urls(event_type: str) -> tuple[tuple[str, PersonalUrlParts], ...]:
    """The event type's partly personal URLs: properties, whose public part is written into the stored properties."""
    paths = partly_personal_paths(ENVELOPE_BY_EVENT_TYPE[event_type])
    if any(len(path) != 2 or path[0] != "properties" for path in paths):
        raise TypeError(f"{event_type}: a partly personal URL must be a property, got {paths}")
    fields = PAYLOAD_BY_EVENT_TYPE[event_type].model_fields
    return tuple((name, url_parts(fields[name])) for _, name in paths)


_URLS = {event_type: _urls(event_type) for event_type in ENVELOPE_BY_EVENT_TYPE}
_SEALED_FIELDS = {  # in the blob, left out of the stored JSON (partly personal URLs come back in it with their public part)
    event_type: _fields({*paths, *partly_personal_paths(ENVELOPE_BY_EVENT_TYPE[event_type])}) for event_type, paths in PERSONAL_PATHS.items()
}
_EMPTY_PROPERTIES = b'"properties":{}}'


class Serialised(NamedTuple):
    """An envelope in its stored form but for its personal part, serialised and not yet encrypted (``Sealer.serialise``)."""

    source_name: str
    message_id: str
    subject: str | None  # whose data key seals it; None: a key of its own
    secret: bytes  # the personal values' JSON
    public: bytes  # the envelope's JSON without them (partly personal URLs with their public part)


def erased_user_id(token: str) -> str:
    return ERASED_PREFIX + token


class Sealer:
    """Seals and opens batches of events: one key lookup per distinct subject (or key id) per batch."""

    def __init__(self, keys: KeyStore, identity: IdentityRules):
        self._keys = keys
        self._identity = identity

    def subject(self, identifiers: Identifiers) -> str | None:
        return self._first_joining(identifiers.person_keys())

    def _first_joining(self, keys: Iterable[str]) -> str | None:
        return next((key for key in keys if self._identity.joins(key)), None)

    def seal_secret(self, subjects: Iterable[str], secret: dict, bound: str) -> dict:
        """Seals a JSON-able value apart from any event (``cdp.scaleout.transit``): with the key of the first of
        the ``type:value`` ``subjects`` that may join customers, else a key of its own; ``bound`` is its associated data."""
        subject = self._first_joining(subjects)
        key_id, cipher = self._keys.keys_for([subject])[subject] if subject is not None else self._keys.new_keys(1)[0]
        return _sealed_secret(key_id, cipher, secret, bound)

    def seal_secret_with(self, key_id: str, secret: object, bound: str) -> dict | Shredded:
        """As ``seal_secret``, with the data key ``key_id`` (an event's: ``cdp.privacy.sealed_errors``),
        or ``Shredded`` if that key was shredded meanwhile (nothing is sealed then)."""
        cipher = self._keys.open_keys([key_id])[key_id]
        return cipher if isinstance(cipher, Shredded) else _sealed_secret(key_id, cipher, secret, bound)

    def open_secret(self, blob: dict, bound: str) -> object | Shredded:
        """What ``seal_secret`` sealed, or ``Shredded`` (with the erasure token) if its key was shredded."""
        cipher = self._keys.open_keys([blob["key"]])[blob["key"]]
        if isinstance(cipher, Shredded):
            return cipher
        return orjson.loads(cipher.decrypt(_unb64(blob["nonce"]), _unb64(blob["data"]), bound.encode()))

    def serialise(self, envelope: Envelope) -> Serialised:
        """The envelope's stored form but for the encryption, which needs the key store
        (``seal_serialised``); raises ``Invalid`` naming the field if it cannot be written."""
        personal = _SEALED_FIELDS[envelope.event_type]
        if extra := undeclared(envelope.properties):
            personal = union(personal, {"properties": extra})
        serializer = envelope.__pydantic_serializer__  # the concrete class's: the union's JSON without its search for the member type (3x the cost)
        try:
            secret, public = serializer.to_json(envelope, include=personal), serializer.to_json(envelope, exclude=personal)  # public: an object with its identity fields, never empty
        except PydanticSerializationError as error:
            raise Invalid(f"{_unwritable_field(envelope)}: cannot be stored ({error})") from None
        if urls := _URLS[envelope.event_type]:
            public = _with_public_urls(public, envelope.properties, urls)
        return Serialised(envelope.source_name, envelope.message_id, self.subject(envelope.identifiers), secret, public)

    def seal(self, envelopes: Sequence[Envelope]) -> list[tuple[str, str, bytes]]:
        """``(source_name, message_id, sealed JSON)`` of each envelope, what the event store appends."""
        return self.seal_serialised([self.serialise(envelope) for envelope in envelopes])

    def seal_serialised(self, events: Sequence[Serialised]) -> list[tuple[str, str, bytes]]:
        """What ``seal`` gives, for envelopes ``serialise`` has turned into their stored form already."""
        subjects = [event.subject for event in events]
        keys = self._keys.keys_for(s for s in subjects if s is not None)
        own = iter(self._keys.new_keys(subjects.count(None)))
        nonces = os.urandom(_NONCE * len(events))  # one system call (and GIL hand-over) per batch, not per event
        sealed = []
        for start, (source_name, message_id, subject, secret, public) in zip(range(0, len(nonces), _NONCE), events, strict=True):
            key_id, cipher = keys[subject] if subject is not None else next(own)
            nonce = nonces[start : start + _NONCE]
            data = cipher.encrypt(nonce, secret, _bound_to(source_name, message_id))
            sealed.append((source_name, message_id, public[:-1] + b"," + _SEALED_MARK + _blob(key_id, nonce, data) + b"}"))
        return sealed

    def open(self, notifications: Sequence[Notification]) -> list[Notification]:
        decoded = {n.id: orjson.loads(n.state) for n in notifications if _SEALED_MARK in n.state}
        self.open_envelopes(list(decoded.values()))
        return [n if n.id not in decoded else Notification(n.originator_id, n.originator_version, n.topic, orjson.dumps(decoded[n.id]), n.id) for n in notifications]

    def open_touchpoints(self, notifications: Sequence[Notification]) -> list[Touchpoint]:
        """The events decoded and opened, with their positions: what the runner projects. Each event is
        decoded once (``open`` encodes the opened ones again, for readers of the stored form)."""
        touchpoints = [Touchpoint(n.id, orjson.loads(n.state)) for n in notifications]
        self.open_envelopes([tp.event for tp in touchpoints])
        return touchpoints

    def open_envelopes(self, events: Sequence[dict], only: str | None = None) -> None:
        """Opens decoded envelopes in place (those not sealed are left as they are). An event that fails
        to open keeps its sealed part, so opening it again fails again (the others opened stay open).
        ``only``: puts back that top-level field's sealed values alone (the scale-out relay resolves
        identities from ``identifiers`` and publishes the stored form; merging the rest back was half
        its time, BENCHMARKS.md issue 23)."""
        sealed = [event for event in events if SEALED in event]
        only_path = f"{only}/"
        keys = self._keys.open_keys(event[SEALED]["key"] for event in sealed)
        for event in sealed:
            blob = event[SEALED]
            key = keys[blob["key"]]
            if isinstance(key, Shredded):
                _erase(event, key.token)
            else:
                secret = orjson.loads(key.decrypt(_unb64(blob["nonce"]), _unb64(blob["data"]), _bound_to(event["source_name"], event["message_id"])))
                if only is None:
                    _open(event, secret)
                elif only in secret:  # nested: then no value is keyed by its path
                    _restore(event, {only: secret[only]})
                else:  # sealed before 2026-12-05: keyed by its path joined with "/" (see _open)
                    _open(event, {name: value for name, value in secret.items() if name.startswith(only_path)})
            del event[SEALED]


@dataclass(frozen=True)
class Readable:
    """A batch as stored (its last position is where it ends), the events opened, those that could not be
    (as stored, with the error: ``cdp.privacy.sealed_errors.quarantined`` makes their quarantine records)."""

    stored: Sequence[Notification]
    opened: list[Touchpoint]
    unreadable: list[tuple[Notification, Exception]]


class SealedEventStore:
    """The event store as the rest of the platform uses it: sealed on append, opened on read."""

    def __init__(self, store: EventStore, sealer: Sealer):
        self.store = store  # the stored (sealed) form, for the scale-out relay
        self.sealer = sealer

    def append(self, envelopes: Iterable[Envelope]) -> Appended:
        return self.store.append(self.sealer.seal(list(envelopes)))

    def append_serialised(self, events: Sequence[Serialised]) -> Appended:
        return self.store.append(self.sealer.seal_serialised(events))

    def read(self, after: int, limit: int, until: int | None = None) -> list[Notification]:
        return self.sealer.open(self.store.read(after, limit, until))

    def read_readable(self, after: int, limit: int, until: int | None = None) -> Readable:
        """As ``read``, but an event that cannot be opened does not fail the others: the batch is
        opened at once, and only if that fails, event by event."""
        stored = self.store.read(after, limit, until)
        try:
            return Readable(stored, self.sealer.open_touchpoints(stored), [])
        except Exception as error:
            if not poisoned(error):
                raise
        readable = Readable(stored, [], [])
        for notification in stored:
            try:
                readable.opened.extend(self.sealer.open_touchpoints([notification]))
            except Exception as error:
                if not poisoned(error):
                    raise
                readable.unreadable.append((notification, error))
        return readable

    def last_position(self) -> int:
        return self.store.last_position()

    def close(self) -> None:
        self.store.close()


def _with_public_urls(public: bytes, properties: Payload, urls: tuple[tuple[str, PersonalUrlParts], ...]) -> bytes:
    """The stored JSON with the public part of each partly personal URL written at the end of its properties, which
    end the stored JSON (traits and context, after them in the envelope, are personal: left out)."""
    shown = {name: None if (url := getattr(properties, name)) is None else parts.public_part(url) for name, parts in urls}
    return public[:-2] + (b"" if public.endswith(_EMPTY_PROPERTIES) else b",") + orjson.dumps(shown)[1:-1] + b"}}"


def _open(event: dict, secret: dict) -> None:
    """Puts the sealed values back in the event: nested as the envelope's JSON has them, or (sealed before
    2026-12-05) keyed by their path joined with ``/``."""
    for name in [name for name in secret if "/" in name]:
        path = name.split("/")
        _parent(event, path)[path[-1]] = secret.pop(name)
    _restore(event, secret)


def _restore(node: dict, secret: dict) -> None:
    """Merges the sealed values into the public ones: into the objects (and lists of objects, such as line items)
    that both hold; any other sealed value takes its place (a URL's public part gives way to the whole URL)."""
    for name, value in secret.items():
        held = node.get(name)
        if held is None:  # most often: the public part leaves the place out or null (no type checks: half the relay's opening, BENCHMARKS.md issue 23)
            node[name] = value
        elif isinstance(held, dict) and isinstance(value, dict):
            _restore(held, value)
        elif isinstance(held, list) and isinstance(value, list) and len(held) == len(value) and all(isinstance(v, dict) for v in (*held, *value)):
            for into, part in zip(held, value, strict=True):
                _restore(into, part)
        else:
            node[name] = value


def _erase(event: dict, token: str) -> None:
    """What an event opens as once its key is shredded: no personal values, the erasure token as identity."""
    account = event["identifiers"].get("account_id")
    event["identifiers"] = {"anonymous_id": None, "user_id": erased_user_id(token), "email": None, "phone": None, "social": [], "account_id": account}
    for path in PERSONAL_PATHS[event["event_type"]]:
        if len(path) == 1:
            event[path[0]] = {}  # traits, context
    event["properties"] = public_view(PAYLOAD_BY_EVENT_TYPE[event["event_type"]], event["properties"])


def _parent(event: dict, path: Sequence[str]) -> dict | None:
    node = event
    for name in path[:-1]:
        node = node.get(name)
        if not isinstance(node, dict):
            return None
    return node


def _unwritable_field(envelope: Envelope) -> str:
    """The first top-level field of an envelope that cannot be serialised, found one field at a time (only ever after a failure)."""
    serializer = envelope.__pydantic_serializer__
    for name in type(envelope).model_fields:
        try:
            serializer.to_json(envelope, include={name})
        except PydanticSerializationError:
            return name
    return "(event)"


def _sealed_secret(key_id: str, cipher: AESGCM, secret: object, bound: str) -> dict:
    nonce = os.urandom(_NONCE)
    return {"key": key_id, "nonce": _b64(nonce), "data": _b64(cipher.encrypt(nonce, orjson.dumps(secret), bound.encode()))}


def _bound_to(source_name: str, message_id: str) -> bytes:
    return f"{source_name}/{message_id}".encode()


def _blob(key_id: str, nonce: bytes, data: bytes) -> bytes:
    """``{"key", "nonce", "data"}`` as JSON, written directly: hex and base64 need no escaping, so no dict and no ``str`` copies are made."""
    return b"".join((b'{"key":"', key_id.encode(), b'","nonce":"', binascii.b2a_base64(nonce, newline=False), b'","data":"', binascii.b2a_base64(data, newline=False), b'"}'))


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode()  # base64.b64encode without its Python wrapper


def _unb64(text: str) -> bytes:
    return binascii.a2b_base64(text)  # base64.b64decode without its Python wrapper (twice an opened event)
