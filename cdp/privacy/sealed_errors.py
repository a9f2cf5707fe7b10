"""Quarantine errors sealed like the event they belong to (``cdp.quarantine``).

An error can quote the event's personal values (``could not convert string to float:
'li.na@example.com'``, pydantic's ``input_value=...``). So a quarantine record keeps
``describe(error)`` sealed with the data key of the event's own sealed part (``Sealer.seal_secret_with``,
bound to the event's position and id): forgetting the person shreds it with the event. When the
event has no key to use (its stored JSON cannot be decoded, it has no sealed part, or its key was
shredded already), the record keeps the exception's type name only: nothing could shred more.

Kept as ``SEALED_ERROR`` then ``{"type", "sealed"}`` as JSON; ``opened`` gives the text back for
reading, or, once the key is shredded, the type name and why the message is gone.
"""

from collections.abc import Iterable
from dataclasses import replace
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification

from cdp.privacy.keystore import Shredded
from cdp.privacy.sealing import SEALED, Sealer
from cdp.quarantine import SEALED_ERROR, Quarantined, describe

FORGOTTEN = "(its message was sealed with the data key of a forgotten person)"


def of(sealer: Sealer, notification: Notification, error: Exception) -> Quarantined:
    """The record of an event as stored (sealed: the key id is read from it; its originator id a ``UUID``
    or, as the SQLite store reads it, the stored text)."""
    return quarantined(sealer, notification.id, UUID(str(notification.originator_id)).hex, key_id(notification.state), error)


def quarantined(sealer: Sealer, position: int, event_id: str, key: str | None, error: Exception) -> Quarantined:
    """The record of the event at ``position`` whose sealed part has the data key ``key`` (None: none known)."""
    kind = type(error).__name__
    if key is None:
        return Quarantined(position, event_id, kind)
    sealed = sealer.seal_secret_with(key, describe(error), _bound(position, event_id))
    if isinstance(sealed, Shredded):
        return Quarantined(position, event_id, kind)
    return Quarantined(position, event_id, SEALED_ERROR + orjson.dumps({"type": kind, "sealed": sealed}).decode())


def key_id(event: bytes | object) -> str | None:
    """The data key id of an event's sealed part: from its stored JSON, or the decoded (not yet opened) event."""
    if isinstance(event, bytes):
        try:
            event = orjson.loads(event)
        except orjson.JSONDecodeError:
            return None
    blob = event.get(SEALED) if isinstance(event, dict) else None
    key = blob.get("key") if isinstance(blob, dict) else None
    return key if isinstance(key, str) else None


def opened(sealer: Sealer, entries: Iterable[Quarantined]) -> list[Quarantined]:
    """The records with their errors readable (a stage before the sealed text, ``relay: ``, is kept)."""
    return [replace(entry, error=_opened(sealer, entry)) for entry in entries]


def _opened(sealer: Sealer, entry: Quarantined) -> str:
    stage, mark, kept = entry.error.partition(SEALED_ERROR)
    if not mark:
        return entry.error
    try:
        sealed = orjson.loads(kept)
        kind, blob = sealed["type"], sealed["sealed"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return entry.error  # not one this module made
    text = sealer.open_secret(blob, _bound(entry.position, entry.event_id))
    return stage + (f"{kind} {FORGOTTEN}" if isinstance(text, Shredded) else str(text))


def _bound(position: int, event_id: str) -> str:
    return f"quarantine/{position}/{event_id}"
