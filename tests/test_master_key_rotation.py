"""``cdp master-key rotate`` (issue 24): every data key wrapped with a new master key; the same
subjects find the same keys (the blind index's secret is kept), what they sealed still opens, and
the old master key opens nothing. With the data directory's own key, and with a configured one; an
interrupted rotation is finished by running it again."""

import os
from pathlib import Path

import pytest

from cdp.config import Settings
from cdp.privacy.keystore import KeyStore, master_key, rotate_master_key, unwraps
from tests.cli import cdp
from tests.crash import Killed, killed

SUBJECTS = ["email:ann@example.com", "phone:+8613800000000", "user_id:u1"]
NONCE = b"0" * 12


def sealed_by_subject(path: Path, master: bytes) -> dict[str, tuple[str, bytes]]:
    """Each subject's key id and a secret sealed with its data key."""
    store = KeyStore(path, master)
    try:
        return {subject: (kid, key.encrypt(NONCE, subject.encode(), None)) for subject, (kid, key) in store.keys_for(SUBJECTS).items()}
    finally:
        store.close()


def assert_opens_as_before(path: Path, master: bytes, before: dict[str, tuple[str, bytes]]) -> None:
    store = KeyStore(path, master)
    try:
        now = store.keys_for(SUBJECTS)
        for subject, (kid, sealed) in before.items():
            assert now[subject][0] == kid  # the blind index finds the same key
            assert now[subject][1].decrypt(NONCE, sealed, None) == subject.encode()
    finally:
        store.close()


def test_the_data_directorys_own_master_key_is_replaced(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    old = master_key(settings)
    before = sealed_by_subject(settings.key_store_path, old)
    result = cdp("master-key", "rotate", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"3 data keys wrapped with the new master key" in result.stdout
    new = master_key(settings)
    assert new != old and (settings.master_key_path.stat().st_mode & 0o777) == 0o600
    assert_opens_as_before(settings.key_store_path, new, before)
    assert not unwraps(settings.key_store_path, old)
    audit = cdp("audit", "--json", "--action", "master_key.rotate", data_dir=tmp_path)
    assert b'"master_key.rotate"' in audit.stdout and b'"data_keys":3' in audit.stdout.replace(b" ", b""), audit.stdout


def test_a_configured_master_key_is_rotated_to_the_one_given(tmp_path: Path):
    old, new = "old-master-key-from-the-secret-store-0123", "new-master-key-from-the-secret-store-4567"
    before = sealed_by_subject(tmp_path / "keys.sqlite", old.encode())
    refused = cdp("master-key", "rotate", data_dir=tmp_path, env={"CDP_PRIVACY__MASTER_KEY": old})
    assert refused.returncode != 0 and b"give the new one in CDP_NEW_MASTER_KEY" in refused.stderr + refused.stdout
    short = cdp("master-key", "rotate", data_dir=tmp_path, env={"CDP_PRIVACY__MASTER_KEY": old, "CDP_NEW_MASTER_KEY": "short"})
    assert short.returncode != 0 and b"CDP_NEW_MASTER_KEY must be at least 32 characters" in short.stderr + short.stdout
    result = cdp("master-key", "rotate", data_dir=tmp_path, env={"CDP_PRIVACY__MASTER_KEY": old, "CDP_NEW_MASTER_KEY": new})
    assert result.returncode == 0, result.stderr.decode()
    assert b"configure it as privacy.master_key" in result.stdout
    assert_opens_as_before(tmp_path / "keys.sqlite", new.encode(), before)
    assert not unwraps(tmp_path / "keys.sqlite", old.encode())
    assert not (tmp_path / "master.key").exists()


def test_an_interrupted_rotation_is_finished_by_running_it_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = Settings(data_dir=tmp_path)
    old = master_key(settings)
    before = sealed_by_subject(settings.key_store_path, old)
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", killed)  # the store is rewrapped, master.key not yet replaced
        with pytest.raises(Killed):
            rotate_master_key(settings, None)
    assert master_key(settings) == old and not unwraps(settings.key_store_path, old)
    assert rotate_master_key(settings, None) == 0
    assert_opens_as_before(settings.key_store_path, master_key(settings), before)
