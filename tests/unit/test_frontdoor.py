"""What `cdp start` prints: how to reach `cdp` when `make` installed it into a venv nobody activated."""

import sys
from pathlib import Path

import pytest

from cdp.frontdoor import CURL_USER_ID, cdp_command, instructions


@pytest.fixture
def venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A venv's bin directory holding an executable `cdp`, as the running interpreter's; the current directory is its parent."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "cdp").write_text("#!/bin/sh\n")
    (bin_dir / "cdp").chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.chdir(tmp_path)
    return bin_dir


def test_outside_the_path_the_venv_command_and_its_activation_are_printed(venv: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert cdp_command() == ".venv/bin/cdp"
    printed = instructions("http://127.0.0.1:8088", "KEY")
    assert f"look the customer up: .venv/bin/cdp profile {CURL_USER_ID}\n" in printed
    assert ". .venv/bin/activate" in printed


def test_on_the_path_plain_cdp_is_printed(venv: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", f"{venv}:/usr/bin:/bin")
    assert cdp_command() == "cdp"
    printed = instructions("http://127.0.0.1:8088", "KEY")
    assert printed.endswith(f"look the customer up: cdp profile {CURL_USER_ID}\n")
    assert "activate" not in printed


def test_another_cdp_on_the_path_is_not_taken_for_this_one(venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "cdp").write_text("#!/bin/sh\n")
    (other / "cdp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{other}:/usr/bin:/bin")
    assert cdp_command() == ".venv/bin/cdp"
