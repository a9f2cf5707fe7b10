"""A real collector for tests: uvicorn on a loopback socket in a thread, over a real data dir."""

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from cdp.api.app import create_app
from cdp.api.server import build_collector, server_config
from cdp.platform import Platform


@dataclass
class RunningCollector:
    url: str
    platform: Platform
    write_key: str  # of the source "web" (website, segment)

    def client(self, key: str | None = None, address: str | None = None) -> httpx.Client:
        """``address``: the loopback address to send from (127.0.0.2, ...: another client to the collector)."""
        transport = httpx.HTTPTransport(local_address=address) if address else None
        return httpx.Client(base_url=self.url, auth=(key or self.write_key, ""), timeout=30, transport=transport)

    def add_source(self, name: str, kind: str, connector: str = "segment", signing_secret: str | None = None) -> str:
        return self.platform.sources.add(name, kind, connector, signing_secret)[1]


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@contextmanager
def running_collector(platform: Platform) -> Iterator[RunningCollector]:
    _, key = platform.sources.add("web", "website")
    app = create_app(build_collector(platform), platform)
    server = uvicorn.Server(server_config(app, platform.settings.collector, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the collector did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningCollector(f"http://127.0.0.1:{port}", platform, key)
    finally:
        server.should_exit = True
        thread.join(10)
