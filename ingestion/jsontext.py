"""Checks of JSON that orjson does not make: how deep it nests, and duplicate top-level keys
(orjson keeps the last silently); and a copy of a value cut at a depth orjson can serialise."""

import re
from typing import Any

import orjson

CUT = "(cut: nested deeper)"  # what stands for a container below the depth ``cut`` keeps


def nests_at_most(text: bytes, levels: int) -> bool:
    """Whether valid JSON ``text`` nests objects and arrays at most ``levels`` deep, found with a
    few C string passes instead of a Python walk over every decoded value (~1 µs an event):

    1. cut escaped backslashes, then escaped quotes (pairing backslashes left to right, as JSON does);
    2. drop everything but brackets and quotes, then cut strings: adjacent quotes first (an empty
       string, or the gap between two strings: either way what is inside stays inside), then the
       few strings left, which hold brackets;
    3. each pass removes the innermost pairs, one level: leaf objects become a placeholder so the
       leaf arrays removed next cannot join with them into a new pair within the same pass.
    """
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = text.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in brackets:
        brackets = _STRING.sub(b"", brackets)
    for _ in range(levels):
        if not brackets:
            return True
        brackets = brackets.replace(b"{}", b".").replace(b"[]", b"").replace(b".", b"")
    return not brackets


_STRING = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'{}[]"')
_CONTAINER = dict | list | tuple


def deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays in a decoded value nest more than ``limit`` levels, walking
    level by level (never deeper than ``limit``, so any depth is safe)."""
    frontier = [value]
    for _ in range(limit):
        frontier = [v for item in frontier for v in (item.values() if isinstance(item, dict) else item) if isinstance(v, _CONTAINER)]
        if not frontier:
            return False
    return True


def cut(value: Any, levels: int) -> Any:
    """A copy of ``value`` whose containers below ``levels`` levels are replaced by ``CUT``."""
    if not isinstance(value, _CONTAINER):
        return value
    if levels == 0:
        return CUT
    if isinstance(value, dict):
        return {k: cut(v, levels - 1) for k, v in value.items()}
    return [cut(v, levels - 1) for v in value]


def may_repeat_key(text: bytes, key: str) -> bool:
    """Whether ``text`` may hold ``key`` twice as an object key, found with C string searches:
    it is written as a key twice, or one of its letters is written as an escape (no encoder does
    that, a hostile client may: ``"bat\\u0063h"``). The condition for ``duplicate_key``."""
    if any(f"\\u{ord(c):04x}"[:5].encode() in text for c in set(key)):
        return True
    quoted = orjson.dumps(key)
    return text.count(quoted) > 1 and len(re.findall(re.escape(quoted) + rb"\s*:", text)) > 1


def duplicate_key(text: bytes) -> str | None:
    """The first key that a JSON object ``text`` holds twice at its top level, if any. A scan of
    its strings and brackets in Python (~60 ms a MB): call it only when ``may_repeat_key``."""
    seen: set[str] = set()
    depth = 0
    for token in _TOKEN.finditer(text):
        bracket = token.group(3)
        if bracket:
            depth += 1 if bracket in b"{[" else -1
        elif depth == 1 and token.group(2):  # a string followed by ':' is a key
            key = orjson.loads(token.group(1))
            if key in seen:
                return key
            seen.add(key)
    return None


_TOKEN = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")(\s*:)?|([{}\[\]])', re.DOTALL)
