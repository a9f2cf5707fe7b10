"""Turns validation failures into one precise line per field, never a traceback."""

from pydantic import ValidationError

from schemas.payloads import PAYLOAD_BY_EVENT_TYPE


def field_path(loc: tuple[str | int, ...]) -> str:
    """``('order_placed', 'properties', 'items', 0, 'price')`` → ``properties.items[0].price``.

    The first element is dropped when it is the discriminator tag (an event type name).
    """
    parts = list(loc)
    if parts and parts[0] in PAYLOAD_BY_EVENT_TYPE:
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(event)"


def describe(error: ValidationError, limit: int = 5) -> str:
    """All of an error's problems, ``path: message``, joined with ``; ``."""
    problems = [f"{field_path(e['loc'])}: {_message(e)}" for e in error.errors(include_url=False)]
    more = f"; and {len(problems) - limit} more" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def _message(e: dict) -> str:
    if e["type"] == "union_tag_invalid":
        return f"unknown event type {e['ctx']['tag']!r} (see `cdp schemas export`)"
    if e["type"] == "union_tag_not_found":
        return "event_type is required"
    message = e["msg"]
    return message.removeprefix("Value error, ")
