"""Why a request is refused: an HTTP status and a message naming the field and the rule.

The body has Segment's error shape (``code`` and ``message``, which its libraries read) plus
``success: false``. ``actor`` names who was refused (a key's name or id, never its secret) for
the audit log, and ``reason`` what it records when the client is told less. No message shows the server's files, hosts or tracebacks: an unexpected failure
is answered with an error id that finds its details in the server's log.
"""

import logging
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import Response

import orjson

MAX_MESSAGE = 2000  # characters of a refusal's message a client is sent: a field name or value it quotes may be the client's 50 kB


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, actor: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.actor = actor
        self.reason = reason or message

    def response(self) -> Response:
        message = self.message if len(self.message) <= MAX_MESSAGE else f"{self.message[:MAX_MESSAGE]}… ({len(self.message) - MAX_MESSAGE:,} more characters)"
        body = orjson.dumps({"success": False, "code": self.code, "message": message})
        return Response(body, status_code=self.status, media_type="application/json", headers=self.headers)


def bad_request(message: str) -> Refused:
    return Refused(400, "invalid_request", message)


def unauthorized(message: str, actor: str | None = None, challenge: str = 'Basic realm="cdp"', reason: str | None = None) -> Refused:
    return Refused(401, "unauthorized", message, {"WWW-Authenticate": challenge}, actor, reason)


def forbidden(message: str, actor: str | None = None) -> Refused:
    return Refused(403, "forbidden", message, actor=actor)


def too_large(message: str) -> Refused:
    return Refused(413, "payload_too_large", message)


def invalid_parameters(errors: Iterable[Mapping[str, Any]]) -> Refused:
    """FastAPI's validation errors as ``query.limit: Input should be ...`` (its own text names source files)."""
    return bad_request("; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors))


def internal_error(error: BaseException, where: str, log: logging.Logger) -> Refused:
    """A 500 naming only an error id; the error and its traceback are logged under that id."""
    error_id = secrets.token_hex(6)
    log.error("internal error %s on %s: %s: %s", error_id, where, type(error).__name__, error, exc_info=error)
    return Refused(500, "internal_error", f"internal error {error_id}; the server's log has the details")
