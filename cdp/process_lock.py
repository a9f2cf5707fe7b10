"""A lock that one thread of one process holds at a time, across every process using the same data
directory (``flock`` on a file beside the data), re-entrant within its thread."""

import fcntl
import threading
from pathlib import Path
from typing import IO


class ProcessLock:
    def __init__(self, path: Path):
        self._path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._file: IO[str] | None = None

    def __enter__(self) -> "ProcessLock":
        self._threads.acquire()
        if self._depth == 0:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self._path.open("a")
                fcntl.flock(self._file, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1
        return self

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._threads.release()
