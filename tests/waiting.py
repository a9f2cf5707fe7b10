"""Waiting in tests for something a server or another process does."""

import ssl
import time

import httpx

# For every httpx client of the tests (``verify=TLS``): unused over the loopback's plain HTTP, but httpx
# otherwise builds a context from the CA bundle for each client, ~30 ms of CPU (``httpx.get`` makes a
# client per call: a third of a core for a wait polling every 0.1 s).
TLS = ssl.create_default_context()


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
