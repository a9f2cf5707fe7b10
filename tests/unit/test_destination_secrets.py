"""Destination secrets are sealed with data keys of the key store, so a master key rotation keeps them."""

import pytest

from cdp.activation.registry import DestinationRegistry
from cdp.activation.secrets import SecretBox
from cdp.errors import CdpError
from cdp.privacy.keystore import KeyStore

SECRET = "a-signing-secret-0123456789abcdef"
SETTINGS = {"url": "http://127.0.0.1:9/hook", "allow_private": True}


def test_a_rotated_master_key_still_opens_destination_secrets(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite", b"old-master-key-" * 3)
    registry = DestinationRegistry(tmp_path / "destinations.sqlite", SecretBox(keys))
    registry.add("hook", "webhook", SETTINGS, SECRET)
    keys.rewrap(b"new-master-key-" * 3)
    registry.close()
    keys.close()
    keys = KeyStore(tmp_path / "keys.sqlite", b"new-master-key-" * 3)
    registry = DestinationRegistry(tmp_path / "destinations.sqlite", SecretBox(keys))
    try:
        assert registry.open("hook", 1.0, tmp_path).context.secret == SECRET
    finally:
        registry.close()
        keys.close()


def test_a_secret_moved_to_another_destinations_row_does_not_open(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite", b"k" * 32)
    registry = DestinationRegistry(tmp_path / "destinations.sqlite", SecretBox(keys))
    try:
        registry.add("a", "webhook", SETTINGS, SECRET)
        registry.add("b", "webhook", SETTINGS, "another-secret-0123456789")
        registry._db.execute("UPDATE destinations SET key_id = (SELECT key_id FROM destinations WHERE name = 'a'), secret = (SELECT secret FROM destinations WHERE name = 'a') WHERE name = 'b'")
        with pytest.raises(CdpError, match="destination 'b': its secret does not open") as refused:
            registry.open("b", 1.0, tmp_path)
        assert SECRET not in str(refused.value)
    finally:
        registry.close()
        keys.close()
