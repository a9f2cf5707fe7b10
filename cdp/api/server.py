"""``cdp serve``: the collector on uvicorn, with the embedded runner following new events.

With ``collector.workers = 1`` one process does everything: uvicorn's event loop, the group
writer thread and the runner thread. With more workers the supervisor (this process) binds the
port once and starts that many collector processes on the shared listening socket, each with
its own group writer (SQLite serialises their commits, across processes); the supervisor itself
runs the embedded runner. The runner's progress reaches every worker's ``/health`` through
shared memory, the number of quarantined events through the quarantine store each of them opens.
Every process reads the warehouse server (docs/architecture.md, "What starts what"); forgetting
over HTTP needs one worker, because a forget holds the runner's lock (``cdp forget`` otherwise).
Beside the runner, the process that runs it (or the supervisor) also runs the activation
dispatcher (``activation.dispatch_in_server``, docs/activation.md); both stop with the server.
"""

import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import uvicorn

from cdp.api.app import create_app
from cdp.api.collector import Collector
from cdp.api.writer import GroupWriter
from cdp.api.connections import ConnectionLimits
from cdp.config import CollectorSettings, Settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.runner import Progress
from cdp.services import Caller
from cdp.services.activation import ActivationService
from ingestion.sdk import connectors

log = logging.getLogger("cdp.serve")
_STOP_SECONDS = 30  # a worker gets this long to write what it holds after being told to stop
_STATES = ("starting", "following", "stopped")


def build_collector(platform: Platform, runner: Mapping[str, Any] | None = None) -> Collector:
    settings = platform.settings.collector
    platform.events, platform.dead_letters, platform.quarantine  # opened now, before the writer and runner threads share them
    writer = GroupWriter(platform, settings.max_pending_events, settings.max_write_events)
    return Collector(settings, platform.sources, writer, connectors()[0], {} if runner is None else runner, platform.quarantine.count, platform.settings.ingestion.track_mapping)


def serve(platform: Platform, host: str, port: int, follow: bool = True, on_error: Callable[[str], None] = log.error) -> None:
    """Serves until interrupted; with ``follow``, the embedded runner processes new events meanwhile."""
    if platform.settings.collector.workers > 1:
        _serve_workers(platform, host, port, follow, on_error)
        return
    status: dict[str, Any] = {}
    app = create_app(build_collector(platform, status), platform, erasure=follow)  # a forget needs the runner here
    server = uvicorn.Server(server_config(app, platform.settings.collector, host, port))
    stop = threading.Event()
    runner = threading.Thread(target=_follow, args=(platform, stop, status.update, on_error), name="cdp-runner", daemon=True)
    dispatcher = _dispatcher(platform, stop, on_error)
    if follow:
        runner.start()
    if dispatcher:
        dispatcher.start()
    try:
        _run(server)
    finally:
        stop.set()
        if follow:
            runner.join()
        if dispatcher:
            dispatcher.join()


def server_config(app: Any, settings: CollectorSettings, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration, with the bounds on slow and idle clients of ``cdp.api.connections``."""
    limits = ConnectionLimits(settings.header_timeout_seconds, settings.body_timeout_seconds, settings.max_connections_per_client, settings.max_connections)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, http=limits.protocol)  # type: ignore[arg-type]


class SharedProgress(Mapping[str, Any]):
    """The runner's progress in shared memory: written by the supervisor, read by the workers' ``/health``."""

    _FIELDS = ("state", "position", "last_position", "processed")

    def __init__(self, context: Any):
        self._values = context.Array("q", len(self._FIELDS))

    def update(self, state: str | None = None, error: str | None = None, **numbers: int) -> None:
        """Like ``dict.update``; an ``error`` is not kept (the supervisor reports it on its console)."""
        with self._values.get_lock():
            if state is not None:
                self._values[0] = _STATES.index(state)
            for name, value in numbers.items():
                self._values[self._FIELDS.index(name)] = value

    def __getitem__(self, name: str) -> Any:
        value = self._values[self._FIELDS.index(name)]
        return _STATES[value] if name == "state" else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._FIELDS)

    def __len__(self) -> int:
        return len(self._FIELDS)


def _serve_workers(platform: Platform, host: str, port: int, follow: bool, on_error: Callable[[str], None]) -> None:
    settings = platform.settings
    context = multiprocessing.get_context("spawn")  # a clean interpreter per worker: no inherited threads or connections
    progress = SharedProgress(context)
    reserved = _socket(host, port)  # bound, not listening: holds the port and fails early if it is taken
    port = reserved.getsockname()[1]  # the port the OS picked, if asked for 0
    workers = [
        context.Process(target=_worker, args=(settings, host, port, progress if follow else None), name=f"cdp-collector-{n}", daemon=False)
        for n in range(settings.collector.workers)
    ]
    stop, failed = threading.Event(), ""
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for worker in workers:
            worker.start()
        runner = threading.Thread(target=_follow, args=(platform, stop, progress.update, on_error), name="cdp-runner", daemon=True)
        dispatcher = _dispatcher(platform, stop, on_error)
        if follow:
            runner.start()
        if dispatcher:
            dispatcher.start()
        while not stop.wait(0.5):
            dead = [w for w in workers if not w.is_alive()]
            if dead:
                failed = f"collector worker {dead[0].name} exited with code {dead[0].exitcode}; the others were stopped"
                break
    finally:
        stop.set()
        for worker in workers:
            if worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)  # uvicorn stops gracefully; the writer writes what it holds
        for worker in workers:
            worker.join(_STOP_SECONDS)
            if worker.is_alive():
                worker.kill()
        if follow:
            runner.join()
        if dispatcher:
            dispatcher.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
        reserved.close()
    if failed:
        raise CdpError(failed)


def _socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT: the kernel spreads new connections evenly over the
    workers' listening sockets on the port (one shared accept queue left most to one worker)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(settings: Settings, host: str, port: int, progress: SharedProgress | None) -> None:
    """One collector process: its own platform handle, group writer, event loop and listening socket."""
    os.setpgrp()  # a Ctrl-C in the terminal reaches the supervisor only, which stops the workers in order
    listener = _socket(host, port)
    listener.listen(2048)
    with Platform(settings) as platform:
        collector = build_collector(platform, progress)
        # a forget must hold the runner's lock, which is the supervisor's
        app = create_app(collector, platform, erasure=False)
        _run(uvicorn.Server(server_config(app, settings.collector, "", 0)), sockets=[listener])


def _run(server: uvicorn.Server, **options: Any) -> None:
    # Everything allocated so far (modules, FastAPI, pydantic's schemas) is moved out of the garbage
    # collector's view, so its full collections scan only what requests allocate: they took ~6% of
    # the server's CPU under /v1/batch load (gc.callbacks), ~0.4% once frozen. A request's objects
    # (a few thousand containers for 100 events) mostly die when it is answered: with the default
    # young-generation threshold of 700 they were scanned and promoted while still alive (4.2% of
    # the CPU in 3,088 collections in 10 s); at 100,000 almost none are (0.2%, 1 collection).
    gc.freeze()
    gc.set_threshold(100_000)
    server.run(**options)


def _dispatcher(platform: Platform, stop: threading.Event, on_error: Callable[[str], None]) -> threading.Thread | None:
    """The activation dispatcher beside the runner (``activation.dispatch_in_server``), stopped with the server."""
    if not platform.settings.activation.dispatch_in_server:
        return None

    def dispatch() -> None:
        try:
            ActivationService(platform, Caller("server")).dispatch(False, stop.is_set, on_error)
        except Exception as error:  # the collector keeps collecting; `cdp activation dispatch` can deliver later
            on_error(f"the activation dispatcher stopped: {type(error).__name__}: {error}; actions wait in the outbox")

    return threading.Thread(target=dispatch, name="cdp-dispatcher", daemon=True)


def _follow(platform: Platform, stop: threading.Event, report: Callable[..., None], on_error: Callable[[str], None]) -> None:
    def progress(p: Progress) -> None:
        report(position=p.position, last_position=p.last_position, processed=p.processed)

    try:
        report(state="following", position=platform.runner.pending()[0])
        platform.runner.run(follow=True, should_stop=stop.is_set, on_progress=progress)
    except Exception as error:  # the collector keeps collecting; `cdp run` can catch up later
        report(state="stopped", error=f"{type(error).__name__}: {error}")
        on_error(f"the embedded runner stopped: {type(error).__name__}: {error}; events are still collected")
