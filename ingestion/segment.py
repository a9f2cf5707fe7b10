"""Segment's HTTP Tracking API messages → our event envelopes. Pure: no I/O, no clock.

One function, ``to_envelope``, turns one Segment message (track, identify, page, screen, group,
alias) into an envelope dict ready for ``ingestion.validation.validate``. Segment's semantic
events (e-commerce v2: Order Completed, Order Refunded, Product Viewed, Product Added; B2B:
Signed Up; Email: Email Unsubscribed, Email Bounced, Email Marked as Spam; Consent Management:
Segment Consent Preference Updated) become our typed sales, website and consent touchpoints; any
other track call is an ``event_tracked``; identify, group and alias calls are ``identified``,
``grouped`` and ``aliased``. Field names and timestamp rules follow Segment's spec:
``timestamp = receivedAt - (sentAt - originalTimestamp)`` corrects the device's clock skew.
``batch_of`` reads a ``/v1/batch`` body: its messages and the context they share.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import orjson

from ingestion.jsontext import deeper_than, duplicate_key, may_repeat_key
from ingestion.validation import MAX_DEPTH, Invalid, json_kind
from schemas.envelope import EARLIEST, LATEST

CALL_TYPES = ("track", "identify", "page", "screen", "group", "alias")
BATCH_FIELDS = frozenset({"batch", "sentAt", "timestamp", "writeKey", "context", "integrations", "metadata"})  # timestamp: rudder-sdk-node
_SHARED_FIELDS = ("context", "integrations")  # a batch's, merged into each of its messages
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")

# Every top-level field Segment's spec and the official Segment/RudderStack libraries send.
MESSAGE_FIELDS = frozenset(
    {
        "type", "event", "name", "category", "properties", "traits", "context", "integrations",
        "timestamp", "originalTimestamp", "sentAt", "receivedAt", "messageId", "anonymousId",
        "userId", "groupId", "previousId", "writeKey", "channel", "version", "_metadata", "options",
        "rudderId", "request_ip",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Request:
    """What the collector knows about the request a message came in."""

    source_name: str
    received_at: datetime
    sent_at: Any = None  # the batch's sentAt, as sent
    context: dict = field(default_factory=dict)  # the batch's shared context
    integrations: dict = field(default_factory=dict)
    shallow: bool = False  # the whole body nests at most MAX_DEPTH + 1 levels (``nests_at_most``), so no field of it can nest deeper than MAX_DEPTH

    @cached_property
    def sent(self) -> datetime | None:
        """The batch's ``sentAt`` parsed, once for all its messages (raises ``Invalid`` each time asked if malformed)."""
        return _parse_time("sentAt", self.sent_at)


def to_envelope(message: Any, request: Request, call_type: str | None = None) -> dict[str, Any]:
    """One Segment message as an envelope dict; raises ``Invalid`` naming the Segment field.

    ``call_type`` is the type implied by the endpoint (``/v1/track``); in a batch each message
    names its own ``type``.
    """
    if not isinstance(message, dict):
        raise Invalid(f"(message): expected a JSON object, got {json_kind(message)}")
    if None in message.values():
        message = {k: v for k, v in message.items() if v is not None}  # Segment treats null as absent
    if not MESSAGE_FIELDS.issuperset(message):
        unknown = sorted(set(message) - MESSAGE_FIELDS)
        raise Invalid(f"{unknown[0][:64]}: unknown field (Segment's spec has no such field)")
    kind = _call_type(message, call_type)
    for name in _OBJECT_FIELDS:
        value = message.get(name)
        if value is not None and not isinstance(value, dict):
            raise Invalid(f"{name}: expected a JSON object, got {json_kind(value)}")
    if not request.shallow and deeper_than(message, MAX_DEPTH + 1):  # before mapping, which recurses; ``validate`` checks the event made
        field = next(name for name, value in message.items() if isinstance(value, dict | list) and deeper_than(value, MAX_DEPTH))
        raise Invalid(f"{field}: nested deeper than {MAX_DEPTH} levels")
    context = {**request.context, **message.get("context", {})}
    original = _timestamp(message, "originalTimestamp") or _timestamp(message, "timestamp")
    sent_at = _timestamp(message, "sentAt") or request.sent
    occurred = request.received_at if original is None else original
    if original is not None and sent_at is not None:
        occurred = request.received_at - (sent_at - original)
    event_type, properties = _MAPPERS[kind](message)
    traits = message.get("traits", {}) if kind == "identify" else {}
    person_traits = traits or context.get("traits") or {}
    identifiers = {}
    for name, value in (
        ("user_id", _identifier(message, "userId")),
        ("anonymous_id", _identifier(message, "anonymousId")),
        ("email", _text(person_traits, "email")),
        ("phone", _text(person_traits, "phone")),
    ):
        if value is not None:
            identifiers[name] = value
    if "user_id" not in identifiers and "anonymous_id" not in identifiers:
        raise Invalid("userId: one of userId or anonymousId is required")
    if kind == "alias":
        identifiers["anonymous_id"] = properties["previous_id"]
    if kind == "group":
        identifiers["account_id"] = properties["group_id"]
    context["segment"] = {
        "type": kind,
        "originalTimestamp": message.get("originalTimestamp", message.get("timestamp")),
        "sentAt": message.get("sentAt", request.sent_at),
        "integrations": {**request.integrations, **message.get("integrations", {})},
    }
    return {
        "message_id": _message_id(message),
        "event_type": event_type,
        "source_kind": _SOURCE_KIND.get(event_type, "website"),
        "source_name": request.source_name,
        "occurred_at": occurred,
        "identifiers": identifiers,
        "traits": _flatten(traits) if traits else {},
        "properties": properties,
        "context": context,
    }


def batch_of(text: bytes, body: Any, source_name: str, received_at: datetime, shallow: bool = False, max_batch_bytes: int | None = None) -> tuple[list, Request]:
    """A ``/v1/batch`` body's messages and what they share; raises ``Invalid`` naming the
    batch-level field. ``text`` is the body's JSON, checked for a second ``batch`` key. What the
    messages share is copied into each, so it counts once per message against ``max_batch_bytes``."""
    if not isinstance(body, dict):
        raise Invalid(f"body: expected a JSON object, got {json_kind(body)}")
    unknown = sorted(set(body) - BATCH_FIELDS)
    if unknown:
        raise Invalid(f"{unknown[0][:64]}: unknown field in a batch body (expected batch, sentAt, context, integrations, writeKey)")
    twice = duplicate_key(text) if may_repeat_key(text, "batch") else None
    if twice is not None:
        raise Invalid(f"{twice[:64]}: given twice in the batch body (only one would be read)")
    messages = body.get("batch")
    if not isinstance(messages, list):
        raise Invalid("batch: required, an array of messages")
    shared = {name: {} if body.get(name) is None else body[name] for name in _SHARED_FIELDS}
    for name, value in shared.items():
        if not isinstance(value, dict):
            raise Invalid(f"{name}: expected a JSON object (the batch's shared {name}), got {json_kind(value)}")
        if not shallow and deeper_than(value, MAX_DEPTH):
            raise Invalid(f"{name}: nested deeper than {MAX_DEPTH} levels (the batch's shared {name})")
    if max_batch_bytes is not None and any(shared.values()):
        _refuse_copies_beyond(shared, len(messages), max_batch_bytes)
    return messages, Request(source_name, received_at, body.get("sentAt"), shared["context"], shared["integrations"], shallow)


def _refuse_copies_beyond(shared: dict[str, dict], copies: int, limit: int) -> None:
    sizes = {name: len(orjson.dumps(value)) for name, value in shared.items()}
    if sum(sizes.values()) * copies > limit:
        name = max(sizes, key=sizes.__getitem__)
        raise Invalid(f"{name}: the batch's shared {name} ({sizes[name]:,} bytes) copied into its {copies:,} messages makes more than the batch limit of {limit:,} bytes; send it in fewer messages per batch")


def _call_type(message: dict, implied: str | None) -> str:
    kind = message.get("type", implied)
    if kind is None:
        raise Invalid(f"type: required in a batch; one of {', '.join(CALL_TYPES)}")
    if kind not in CALL_TYPES:
        raise Invalid(f"type: {str(kind)[:32]!r} is not one of {', '.join(CALL_TYPES)}")
    if implied is not None and kind != implied:
        raise Invalid(f"type: {kind!r} sent to the /v1/{implied} endpoint")
    return kind


def _timestamp(message: dict, name: str) -> datetime | None:
    return _parse_time(name, message.get(name))


def _parse_time(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name}: expected an ISO 8601 date-time string, got {json_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name}: {value[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=EARLIEST.tzinfo)  # Segment reads a zoneless time as UTC
    if not EARLIEST <= parsed < LATEST:
        raise Invalid(f"{name}: {value[:40]} is not between {EARLIEST.date()} and {LATEST.date()}")
    return parsed


def _identifier(message: dict, name: str) -> str | None:
    value = message.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{name}: expected a string, got {json_kind(value)}")
    return str(value)


def _required_identifier(message: dict, name: str) -> str:
    value = _identifier(message, name)
    if value is None:
        raise Invalid(f"{name}: required for {message.get('type', 'this')} calls")
    return value


def _text(values: dict, name: str) -> str | None:
    value = values.get(name) if isinstance(values, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _message_id(message: dict) -> str:
    given = _identifier(message, "messageId")
    if given is not None:
        return given
    digest = hashlib.sha256(orjson.dumps(message, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"auto-{digest[:32]}"  # the same message re-sent gets the same id


def _flatten(values: dict, prefix: str = "") -> dict:
    """Nested trait objects (``address.city``) as dotted keys, since traits are flat."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


# ---- one mapper per call type: message → (event type, properties) ----


def _track(message: dict) -> tuple[str, dict]:
    event = message.get("event")
    if not isinstance(event, str) or not event.strip():
        raise Invalid("event: required for track calls (the action's name, e.g. 'Order Completed')")
    properties = dict(message.get("properties", {}))
    action = event.strip().lower()
    semantic = _SEMANTIC.get(action)
    if semantic is not None:
        return semantic(properties)
    preferences = _consent_preferences(message) if action == "segment consent preference updated" else None
    if preferences:
        return "consent_preferences_updated", {**properties, "preferences": preferences, "channel": "consent_manager"}
    if "name" in properties:
        properties["property_name"] = properties.pop("name")
    return "event_tracked", {**properties, "name": event}


def _page(message: dict) -> tuple[str, dict]:
    properties = dict(message.get("properties", {}))
    page = message.get("context", {}).get("page") or {}
    for key in ("url", "path", "title", "referrer"):
        if properties.get(key) in (None, "") and isinstance(page, dict) and page.get(key):
            properties[key] = page[key]
        if properties.get(key) == "":
            properties.pop(key)
    return "page_viewed", {**properties, **_named(message)}


def _screen(message: dict) -> tuple[str, dict]:
    properties = dict(message.get("properties", {}))
    name = message.get("name") or properties.get("name")
    if not name:
        raise Invalid("name: required for screen calls (the screen's name)")
    return "screen_viewed", {**properties, "name": name}


def _identify(message: dict) -> tuple[str, dict]:
    return "identified", {}


def _group(message: dict) -> tuple[str, dict]:
    return "grouped", {"group_id": _required_identifier(message, "groupId"), "group_traits": message.get("traits", {})}


def _alias(message: dict) -> tuple[str, dict]:
    return "aliased", {"previous_id": _required_identifier(message, "previousId")}


def _named(message: dict) -> dict:
    return {k: message[k] for k in ("name", "category") if message.get(k) is not None}


_MAPPERS: dict[str, Callable[[dict], tuple[str, dict]]] = {
    "track": _track, "page": _page, "screen": _screen, "identify": _identify, "group": _group, "alias": _alias,
}  # fmt: skip


# ---- Segment's semantic events (e-commerce v2, B2B SaaS) ----


def _order_completed(p: dict) -> tuple[str, dict]:
    items = p.pop("products", None)
    mapped = {**p, "amount": _order_amount(p, items)}
    if isinstance(items, list):
        mapped["items"] = [_line_item(item) for item in items]
    elif items is not None:
        mapped["products"] = items  # validation reports its type
    return "order_placed", mapped


def _order_refunded(p: dict) -> tuple[str, dict]:
    items = p.get("products")
    return "order_refunded", {**p, "amount": _order_amount(p, items if isinstance(items, list) else None)}


def _order_amount(p: dict, items: list | None) -> Any:
    for key in ("total", "revenue", "value"):
        if p.get(key) is not None:
            return p[key]
    if items and all(isinstance(i, dict) and isinstance(i.get("price"), int | float) for i in items):
        return sum(i["price"] * (i.get("quantity") or 1) for i in items if isinstance(i.get("quantity") or 1, int | float))
    raise Invalid("properties.total: required (or revenue, or products with prices) for an order")


def _line_item(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    product_id = item.get("product_id") or item.get("sku") or item.get("id")
    return {**item, "product_id": str(product_id) if product_id is not None else None}


def _product(event_type: str) -> Callable[[dict], tuple[str, dict]]:
    def mapper(p: dict) -> tuple[str, dict]:
        product_id = p.get("product_id") or p.get("sku")
        if product_id is None:
            raise Invalid("properties.product_id: required (or properties.sku) for a product event")
        return event_type, {**p, "product_id": str(product_id)}

    return mapper


def _signed_up(p: dict) -> tuple[str, dict]:
    return "signed_up", {**p, "method": p.get("method") or p.get("type")}


def _suppressed(reason: str) -> Callable[[dict], tuple[str, dict]]:
    def mapper(p: dict) -> tuple[str, dict]:
        return "identifier_suppressed", {**p, "purpose": "email_marketing", "reason": reason}

    return mapper


# Consent Management's categories are named per workspace; the usual names map to our purposes.
CONSENT_CATEGORIES = {
    "analytics": "analytics", "performance": "analytics", "personalization": "personalisation", "personalisation": "personalisation",
    "functional": "personalisation", "advertising": "third_party_sharing", "targeting": "third_party_sharing",
    "datasharing": "third_party_sharing", "marketing": "email_marketing", "email": "email_marketing", "sms": "sms_marketing",
}  # fmt: skip


def _consent_preferences(message: dict) -> dict[str, Any]:
    """``context.consent.categoryPreferences`` as purpose → given (categories of no known purpose stay in context)."""
    consent = message.get("context", {}).get("consent")
    categories = consent.get("categoryPreferences") if isinstance(consent, dict) else None
    if not isinstance(categories, dict):
        return {}
    return {CONSENT_CATEGORIES[k.lower()]: v for k, v in categories.items() if isinstance(k, str) and k.lower() in CONSENT_CATEGORIES}


_SEMANTIC: dict[str, Callable[[dict], tuple[str, dict]]] = {
    "order completed": _order_completed,
    "order refunded": _order_refunded,
    "product viewed": _product("product_viewed"),
    "product added": _product("product_added_to_cart"),
    "signed up": _signed_up,
    "email unsubscribed": _suppressed("unsubscribe"),
    "email bounced": _suppressed("bounce"),
    "email marked as spam": _suppressed("complaint"),
}
_SOURCE_KIND = {"order_placed": "sales", "order_refunded": "sales"}

