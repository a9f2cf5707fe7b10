"""Which source a request comes from: its write key, as HTTP Basic user name or ``writeKey``."""

import base64
import binascii
from typing import Any

from starlette.datastructures import Headers

from cdp.api.refusals import unauthorized
from cdp.sources import Source, SourceRegistry


def basic_write_key(headers: Headers) -> str | None:
    """The Basic auth user name (Segment's libraries send ``base64(writeKey + ":")``)."""
    header = headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise unauthorized("Authorization: expected HTTP Basic credentials with the write key as user name")
    try:
        user = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("Authorization: not valid base64 of 'writeKey:'") from None
    return user or None


def body_write_key(body: Any) -> str | None:
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) and key else None


def authenticate(registry: SourceRegistry, key: str | None) -> Source:
    if key is None:
        raise unauthorized("write key: missing; send it as the HTTP Basic user name or as writeKey in the body")
    source = registry.by_write_key(key)
    if source is None:
        raise unauthorized("write key: unknown; `cdp sources add NAME --kind KIND` prints one")
    return source
