"""Destination secrets (a webhook's signing secret, an SMTP password, a team chat's URL with its
token), encrypted at rest with a key derived from the master key (AES-256-GCM, the destination's
name as associated data, so a secret copied onto another destination's row does not open).

Unlike a read or write key, which the platform only checks (and so keeps as a hash), a
destination's secret must be presented to the destination, so it is kept encrypted, never hashed,
and shown nowhere: not in listings, the delivery log, errors or the audit log.
"""

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cdp.errors import CdpError

_NONCE = 12


class SecretBox:
    def __init__(self, master: bytes):
        self._cipher = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cdp destination secrets").derive(master))

    def seal(self, owner: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._cipher.encrypt(nonce, secret.encode(), owner.encode())

    def open(self, owner: str, sealed: bytes) -> str:
        try:
            return self._cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], owner.encode()).decode()
        except Exception:  # InvalidTag: never echo what was stored
            raise CdpError(f"destination {owner!r}: its secret does not open with this master key (was the master key changed?); add the destination again") from None
