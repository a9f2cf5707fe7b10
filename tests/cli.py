"""Runs the real ``cdp`` command in a process of its own, as a user would."""

import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.command_fork import CommandFork
from tests.services.ports import free_port

CDP = [sys.executable, "-m", "cdp"]


def environment(data_dir: Path, env: dict | None = None) -> dict[str, str]:
    """This process's environment without any ``CDP_*`` setting, then the data directory and ``env``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CDP_")} | {"CDP_DATA_DIR": str(data_dir)} | (env or {})


def cdp(*args: str, data_dir: Path, stdin: bytes | None = None, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """One command to its end, in a process forked from one that imported the platform once
    (tests/command_fork.py: a fresh interpreter would spend ~0.9 s of CPU on imports first)."""
    return _command_fork().run(list(args), environment(data_dir, env), stdin, timeout)


_forks: list[CommandFork] = []  # this test process's, started by its first command
_starting = threading.Lock()


def _command_fork() -> CommandFork:
    with _starting:
        if not _forks:
            _forks.append(CommandFork())
        return _forks[0]


def serve(data_dir: Path, env: dict | None = None, stdout: int = subprocess.PIPE) -> tuple[subprocess.Popen, str]:
    """Starts ``cdp serve`` on a free loopback port; returns the process (stderr piped) and its URL."""
    port = free_port()
    process = subprocess.Popen([*CDP, "serve", "--port", str(port)], env=environment(data_dir, env), stdout=stdout, stderr=subprocess.PIPE)
    return process, f"http://127.0.0.1:{port}"
