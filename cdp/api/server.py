"""``cdp serve``: the collector on uvicorn, with the embedded runner following new events."""

import logging
import threading
from collections.abc import Callable

import uvicorn

from cdp.api.app import create_app
from cdp.api.collector import Collector
from cdp.api.writer import GroupWriter
from cdp.platform import Platform
from cdp.runner import Progress
from ingestion.sdk import connectors

log = logging.getLogger("cdp.serve")


def build_collector(platform: Platform) -> Collector:
    settings = platform.settings.collector
    platform.events, platform.dead_letters  # opened now, before the writer and runner threads share them
    writer = GroupWriter(platform, settings.max_pending_events, settings.max_write_events)
    return Collector(settings, platform.sources, writer, connectors()[0])


def serve(platform: Platform, host: str, port: int, follow: bool = True, on_error: Callable[[str], None] = log.error) -> None:
    """Serves until interrupted; with ``follow``, the embedded runner processes new events meanwhile."""
    collector = build_collector(platform)
    server = uvicorn.Server(uvicorn.Config(create_app(collector, platform), host=host, port=port, log_level="warning", access_log=False))
    stop = threading.Event()
    runner = threading.Thread(target=_follow, args=(platform, stop, collector.runner, on_error), name="cdp-runner", daemon=True)
    if follow:
        runner.start()
    try:
        server.run()
    finally:
        stop.set()
        if follow:
            runner.join()


def _follow(platform: Platform, stop: threading.Event, status: dict, on_error: Callable[[str], None]) -> None:
    def progress(p: Progress) -> None:
        status.update(position=p.position, last_position=p.last_position, processed=p.processed)

    try:
        status.update(state="following", position=platform.runner.pending()[0])
        platform.runner.run(follow=True, should_stop=stop.is_set, on_progress=progress)
    except Exception as error:  # the collector keeps collecting; `cdp run` can catch up later
        status.update(state="stopped", error=f"{type(error).__name__}: {error}")
        on_error(f"the embedded runner stopped: {type(error).__name__}: {error}; events are still collected")
