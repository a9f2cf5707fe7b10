"""Waiting in tests for something a server or another process does."""

import time

import httpx


def wait_until(condition, seconds: float = 60, poll: float = 0.1) -> None:
    """Calls ``condition`` until it is true (a refused connection counts as not yet); fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s")
        time.sleep(poll)
