"""Destination secrets (a webhook's signing secret, an SMTP password, a team chat's URL with its
token), encrypted at rest with a data key of their own from the key store (``cdp.privacy.keystore``):
AES-256-GCM, the destination's name as associated data, so a secret copied onto another
destination's row does not open. The data key is wrapped by the master key like every other, so
``cdp master-key rotate`` covers destination secrets too, and a backup holds them only sealed.

Unlike a read or write key, which the platform only checks (and so keeps as a hash), a
destination's secret must be presented to the destination, so it is kept encrypted, never hashed,
and shown nowhere: not in listings, the delivery log, errors or the audit log.
"""

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cdp.errors import CdpError
from cdp.privacy.keystore import KeyStore
from cdp.refusals import refusal

_NONCE = 12


class SecretBox:
    def __init__(self, keys: KeyStore):
        self._keys = keys

    def seal(self, owner: str, secret: str) -> tuple[str, bytes]:
        """The id of a new data key and the secret sealed with it."""
        [(key_id, cipher)] = self._keys.new_keys(1)
        nonce = os.urandom(_NONCE)
        return key_id, nonce + cipher.encrypt(nonce, secret.encode(), owner.encode())

    def open(self, owner: str, key_id: str, sealed: bytes) -> str:
        cipher = self._keys.open_keys([key_id])[key_id]
        if not isinstance(cipher, AESGCM):
            raise refusal(CdpError, "secret_key_deleted", name=owner)
        try:
            return cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], owner.encode()).decode()
        except Exception:  # InvalidTag: never echo what was stored
            raise refusal(CdpError, "secret_unreadable", name=owner) from None
