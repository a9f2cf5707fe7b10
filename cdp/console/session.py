"""The console's sign-in: the read key sealed in a cookie, and the CSRF tokens of its forms.

The session cookie holds the read key's token encrypted and authenticated with AES-256-GCM under
a secret of the data directory (``console-secret``, created once, readable by its owner only), so
the browser can neither read nor forge it; it is HttpOnly and SameSite=Strict. Every request
authenticates the key again, so revoking or rotating it ends the session at once; signing out
records the session's nonce as ended (``KeyRegistry.end_session``), so a copy of its cookie opens
nothing either. Each session
carries a random nonce; a form's CSRF token is an HMAC of it, which a page from another site
cannot know. The sign-in form, before any session, uses the nonce of a short-lived cookie instead.
"""

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SESSION_COOKIE = "cdp_session"
SIGNIN_COOKIE = "cdp_signin"
SECRET_FILE = "console-secret"
_CONTEXT = b"cdp console session v1"


@dataclass(frozen=True)
class Session:
    token: str  # the read key as given at sign-in
    nonce: str  # what this session's CSRF tokens are made from
    issued: float  # seconds since the epoch


class Sealer:
    """Seals sessions into cookie values and makes CSRF tokens, under the data directory's secret."""

    def __init__(self, secret: bytes, lifetime_seconds: float):
        self._aead = AESGCM(secret)
        self._mac_key = hashlib.sha256(b"csrf" + secret).digest()
        self.lifetime = lifetime_seconds

    def seal(self, token: str) -> tuple[str, Session]:
        session = Session(token, secrets.token_hex(16), time.time())
        iv = os.urandom(12)
        sealed = self._aead.encrypt(iv, orjson.dumps({"k": session.token, "n": session.nonce, "t": session.issued}), _CONTEXT)
        return base64.urlsafe_b64encode(iv + sealed).decode(), session

    def open(self, cookie: str | None) -> Session | None:
        """The session a cookie holds; None when there is none, it was tampered with, or it expired."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie.encode())
            data = orjson.loads(self._aead.decrypt(raw[:12], raw[12:], _CONTEXT))
        except (ValueError, InvalidTag, orjson.JSONDecodeError):
            return None
        session = Session(data["k"], data["n"], data["t"])
        return session if 0 <= time.time() - session.issued < self.lifetime else None

    def csrf(self, nonce: str) -> str:
        return hmac.new(self._mac_key, nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(self.csrf(nonce), token)


def data_dir_secret(data_dir: Path) -> bytes:
    """The data directory's console secret, created on first use (atomically: collector workers may race)."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}"
        draft.write_bytes(secrets.token_bytes(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_bytes()
    if len(secret) != 32:
        raise ValueError(f"{path}: expected 32 bytes; delete it to make a new one (signing everyone out)")
    return secret
