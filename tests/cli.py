"""Runs the real ``cdp`` command in a subprocess, as a user would."""

import os
import subprocess
import sys
from pathlib import Path

CDP = [sys.executable, "-m", "cdp"]


def cdp(*args: str, data_dir: Path, stdin: bytes | None = None, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")} | {"CDP_DATA_DIR": str(data_dir)} | (env or {})
    return subprocess.run([*CDP, *args], input=stdin, capture_output=True, env=environment, timeout=timeout, check=False)
