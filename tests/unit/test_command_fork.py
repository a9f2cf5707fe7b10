"""The test helper that runs ``cdp`` commands as forks of a process that imported the platform once
(tests/command_fork.py): a forked command must behave as a fresh ``python -m cdp`` would."""

import subprocess
import time
from pathlib import Path

import pytest

from tests.cli import CDP, cdp, environment


@pytest.mark.parametrize("args", [["--help"], ["sources", "--help"], ["no-such-command"]])
def test_a_forked_command_prints_and_exits_as_a_fresh_interpreter(tmp_path: Path, args: list[str]):
    env = {"COLUMNS": "120"}
    fresh = subprocess.run([*CDP, *args], capture_output=True, env=environment(tmp_path, env), check=False)
    forked = cdp(*args, data_dir=tmp_path, env=env)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)


def test_each_command_has_its_own_environment(tmp_path: Path):
    """The consoles are made by each command: the terminal width is the command's, not the server's."""
    narrow, wide = (cdp("--help", data_dir=tmp_path, env={"COLUMNS": str(width)}).stdout.decode() for width in (60, 200))
    assert max(map(len, narrow.splitlines())) <= 60 < max(map(len, wide.splitlines()))


def test_stdin_reaches_the_command_and_refusals_reach_stderr(tmp_path: Path):
    result = cdp("ingest", "-", data_dir=tmp_path, stdin=b"{not json\n")
    assert result.returncode == 1 and b"1 rejected" in result.stdout and b"-:1: malformed JSON" in result.stderr, result


def test_a_command_past_its_timeout_is_killed(tmp_path: Path):
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        cdp("run", "--follow", data_dir=tmp_path, timeout=3)  # follows the log until interrupted
    assert time.monotonic() - started < 30
