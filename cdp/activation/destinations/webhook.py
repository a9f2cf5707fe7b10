"""``webhook``: each message POSTed as JSON to an administrator's URL, signed.

Headers: ``X-CDP-Timestamp`` (Unix seconds of the attempt), ``X-CDP-Signature``
(``sha256=`` + hex HMAC-SHA256 under the destination's secret of ``TIMESTAMP.BODY``, so a receiver
checks both and refuses old timestamps against replays), ``Idempotency-Key`` (the action id: a
retry after a timeout or a dispatcher killed mid-send carries the same key, and a receiver that
keeps keys applies it once). A 2xx answer is a delivery; 408, 429, 5xx, timeouts and connection
errors are retried; other answers are permanent. Redirects are never followed. The host is
resolved and checked at every send and the connection made to the checked address
(``cdp.activation.addresses``).
"""

import hashlib
import hmac
import ssl
from functools import cache

import httpx
import orjson
from pydantic import Field

from cdp.activation.addresses import RefusedAddress, check_url, resolve
from cdp.activation.destinations import Destination, DestinationSettings, Message, Permanent, Retryable, Sent
from cdp.errors import CdpError

RETRIED_STATUSES = frozenset({408, 425, 429})


class WebhookSettings(DestinationSettings):
    url: str = Field(max_length=2000, description="Where to POST, http or https.")


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle takes ~0.1 s, and a webhook is opened per dispatch round."""
    return ssl.create_default_context()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-CDP-Signature`` value a receiver recomputes."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Webhook(Destination):
    kind = "webhook"
    Settings = WebhookSettings
    needs_secret = True
    secret_help = "the signing secret the receiver checks X-CDP-Signature with (at least 16 characters)"

    def __init__(self, settings: WebhookSettings, context):
        super().__init__(settings, context)
        self._client = httpx.Client(timeout=context.timeout_seconds, follow_redirects=False, trust_env=False, verify=_tls())

    @classmethod
    def check(cls, settings: WebhookSettings, secret: str | None) -> None:
        check_url(settings.url, settings.allow_private, "settings.url")
        if secret is None or len(secret) < 16:
            raise CdpError("secret: a webhook needs a signing secret of at least 16 characters")

    def send(self, message: Message) -> Sent:
        settings: WebhookSettings = self.settings  # type: ignore[assignment]
        try:
            target = resolve(settings.url, settings.allow_private, "settings.url")
        except RefusedAddress as refused:
            raise Permanent(str(refused)) from None
        body = orjson.dumps(message.body())
        timestamp = str(int(message.sent_at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
            "X-CDP-Timestamp": timestamp,
            "X-CDP-Signature": signature(self.context.secret or "", timestamp, body),
            "Idempotency-Key": message.action_id,
            "User-Agent": "cdp-activation/1",
        }
        try:
            response = self._client.post(target.pinned_url(), content=body, headers=headers, extensions={"sni_hostname": target.host})
        except httpx.TimeoutException:
            raise Retryable(f"no answer within {self.context.timeout_seconds:g}s") from None
        except httpx.TransportError as error:
            raise Retryable(f"connection failed: {type(error).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return Sent(delivered=True, detail=f"HTTP {status}")
        if status >= 500 or status in RETRIED_STATUSES:
            raise Retryable(f"HTTP {status}")
        if 300 <= status < 400:
            raise Permanent(f"HTTP {status}: redirects are not followed; configure the final URL")
        raise Permanent(f"HTTP {status}")

    def close(self) -> None:
        self._client.close()
