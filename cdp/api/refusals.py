"""Why a request is refused: an HTTP status and a message naming the field and the rule.

The body has Segment's error shape (``code`` and ``message``, which its libraries read) plus
``success: false``. ``actor`` names who was refused (a key's name or id, never its secret) for
the audit log.
"""

from starlette.responses import Response

import orjson


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, actor: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.actor = actor

    def response(self) -> Response:
        body = orjson.dumps({"success": False, "code": self.code, "message": self.message})
        return Response(body, status_code=self.status, media_type="application/json", headers=self.headers)


def bad_request(message: str) -> Refused:
    return Refused(400, "invalid_request", message)


def unauthorized(message: str, actor: str | None = None, challenge: str = 'Basic realm="cdp"') -> Refused:
    return Refused(401, "unauthorized", message, {"WWW-Authenticate": challenge}, actor)


def forbidden(message: str, actor: str | None = None) -> Refused:
    return Refused(403, "forbidden", message, actor=actor)


def too_large(message: str) -> Refused:
    return Refused(413, "payload_too_large", message)
