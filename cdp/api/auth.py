"""Who a request comes from.

Writes: a source's write key, as HTTP Basic user name or ``writeKey``. Reads: a read key as
``Authorization: Bearer <key>``, with the scope each endpoint declares. A write key can never
read and a read key can never write. Refusals name the key (never its secret) for the audit log.
"""

import base64
import binascii
from collections.abc import Callable
from typing import Any

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.requests import Request

from cdp.api.refusals import Refused, forbidden, unauthorized
from cdp.keys import PREFIX, KeyRefused, KeyRegistry, ReadKey, key_id_of
from cdp.sources import Source, SourceRegistry

READ_ONLY = "a read key (cdp_rk_...) can only read; send events with a source's write key"
# declares the scheme in OpenAPI (the Authorize button of /docs); the header is checked below, with our messages
_BEARER = HTTPBearer(auto_error=False, scheme_name="readKey", description="A read key from `cdp keys create`.")


def basic_write_key(headers: Headers) -> str | None:
    """The Basic auth user name (Segment's libraries send ``base64(writeKey + ":")``)."""
    header = headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip().startswith(PREFIX):
        raise forbidden(READ_ONLY, actor=_read_actor(token.strip()))
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
    if key.startswith(PREFIX):
        raise forbidden(READ_ONLY, actor=_read_actor(key))
    source = registry.by_write_key(key)
    if source is None:
        raise unauthorized("write key: unknown; `cdp sources add NAME --kind KIND` prints one")
    if source.revoked_at:
        raise unauthorized(f"write key of source {source.name!r}: revoked at {source.revoked_at}", actor=f"source:{source.name}")
    return source


class ReadAccess:
    """FastAPI dependencies that let a request through only with a read key holding a scope."""

    def __init__(self, keys: Callable[[], KeyRegistry], sources: Callable[[], SourceRegistry]):
        self._keys = keys
        self._sources = sources

    def require(self, scope: str) -> Callable[[Request], ReadKey]:
        """A route dependency; the key is left on ``request.state.read_key`` for the handler."""

        def read_key(request: Request, _: HTTPAuthorizationCredentials | None = Security(_BEARER)) -> ReadKey:
            request.state.read_key = key = self.check(request.headers, scope)
            return key

        read_key.scope = scope  # what the scope matrix test reads
        return read_key

    def check(self, headers: Headers, scope: str) -> ReadKey:
        """The request's read key, if it holds ``scope``; refused otherwise."""
        key = self.authenticate(headers)
        if not key.allows(scope):
            raise forbidden(f"read key {key.name!r}: lacks the scope {scope} (it has {', '.join(key.scopes)})", actor=key.actor)
        return key

    def authenticate(self, headers: Headers) -> ReadKey:
        header = headers.get("authorization")
        if header is None:
            raise _unauthorized_reader("Authorization: missing; send a read key as 'Authorization: Bearer <key>' (`cdp keys create` prints one)")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized_reader("Authorization: expected 'Bearer <read key>'")
        try:
            return self._keys().authenticate(token)
        except KeyRefused as refusal:
            if refusal.key is None and (source := self._sources().by_write_key(token)) is not None:
                raise forbidden(f"a write key (of source {source.name!r}) can only send events; read with a read key", actor=f"source:{source.name}") from None
            raise _unauthorized_reader(str(refusal), refusal.key.actor if refusal.key else _read_actor(token)) from None


def _unauthorized_reader(message: str, actor: str | None = None) -> Refused:
    return unauthorized(message, actor=actor, challenge='Bearer realm="cdp"')


def _read_actor(token: str) -> str | None:
    key_id = key_id_of(token)
    return f"key-id:{key_id}" if key_id else None
