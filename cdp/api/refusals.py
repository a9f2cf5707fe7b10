"""Why a request is refused: an HTTP status and a message naming the field and the rule.

The body has Segment's error shape (``code`` and ``message``, which its libraries read) plus
``success: false``.
"""

from starlette.responses import Response

import orjson


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = orjson.dumps({"success": False, "code": self.code, "message": self.message})
        return Response(body, status_code=self.status, media_type="application/json", headers=self.headers)


def bad_request(message: str) -> Refused:
    return Refused(400, "invalid_request", message)


def unauthorized(message: str) -> Refused:
    return Refused(401, "unauthorized", message, {"WWW-Authenticate": 'Basic realm="cdp"'})


def too_large(message: str) -> Refused:
    return Refused(413, "payload_too_large", message)
