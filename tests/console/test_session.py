"""The sealed session cookie and the CSRF tokens."""

import time
from pathlib import Path

import pytest

from cdp.console.session import Sealer, data_dir_secret


def test_a_session_opens_only_whole_unexpired_and_under_its_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    secret = data_dir_secret(tmp_path)
    assert data_dir_secret(tmp_path) == secret and (tmp_path / "console-secret").stat().st_mode & 0o777 == 0o600
    sealer = Sealer(secret, 3600)
    cookie, session = sealer.seal("cdp_rk_abc_secret")
    assert "secret" not in cookie and sealer.open(cookie) == session
    assert sealer.open(cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]) is None  # tampered
    assert Sealer(bytes(32), 3600).open(cookie) is None  # another data directory's secret
    assert sealer.open("not base64 at all!") is None and sealer.open(None) is None and sealer.open("x" * 5000) is None
    monkeypatch.setattr(time, "time", lambda: session.issued + 3601)
    assert sealer.open(cookie) is None  # expired


def test_csrf_tokens_belong_to_their_session(tmp_path: Path):
    sealer = Sealer(data_dir_secret(tmp_path), 3600)
    _, one = sealer.seal("k")
    _, two = sealer.seal("k")
    assert sealer.csrf_matches(one.nonce, sealer.csrf(one.nonce))
    assert not sealer.csrf_matches(two.nonce, sealer.csrf(one.nonce))
    assert not sealer.csrf_matches(one.nonce, None) and not sealer.csrf_matches(None, sealer.csrf(one.nonce))
