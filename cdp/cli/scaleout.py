"""``cdp relay`` and ``cdp worker``: the scale-out runner's two processes (docs/operations.md).

They need the ``scaleout`` extra (faust-streaming, which brings aiokafka); the rest of ``cdp``
works without it, so their modules are imported only when they run.
"""

import asyncio
import importlib
import signal
from datetime import UTC, datetime
from types import ModuleType
from typing import Annotated

import typer

from cdp.cli.options import ConfigFile, DataDir, out
from cdp.cli.render import print_rows
from cdp.config import Settings, load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.scaleout.state import RelayState, connect, partition_progress, quarantined

scaleout_app = typer.Typer()
_EXTRA = frozenset({"faust", "aiokafka", "mode", "kafka"})  # what the scaleout extra installs


@scaleout_app.command()
def relay(
    follow: Annotated[bool, typer.Option("--follow", help="Keep relaying new events until interrupted.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Resolve identities in log order and publish the event log to Kafka for the workers."""
    relay_module = _with_extra("cdp.scaleout.relay", "relay")
    relayed = asyncio.run(_relay(relay_module, _require_postgres(load_settings(config, data_dir=data_dir)), follow))
    out.print(f"relayed {relayed:,} events")


@scaleout_app.command()
def worker(
    web_port: Annotated[int | None, typer.Option("--web-port", help="faust's web port; each worker on one host needs its own [default: kafka.web_port]")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Run a faust-streaming worker: the projections of its share of the customers, until interrupted."""
    worker_module = _with_extra("cdp.scaleout.worker", "worker")
    settings = _require_postgres(load_settings(config, data_dir=data_dir))
    if web_port is not None:
        settings = settings.model_copy(update={"kafka": settings.kafka.model_copy(update={"web_port": web_port})})
    worker_module.run_worker(settings)


@scaleout_app.command()
def lag(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Show how far the relay and each topic partition's worker are behind the event log."""
    settings = _require_postgres(load_settings(config, data_dir=data_dir))
    with Platform(settings) as platform:
        last = platform.events.last_position()
    db = connect(settings.event_store.postgres)
    try:
        relayed, watermark = RelayState(db).tracked()
        partitions = partition_progress(db, settings.kafka.topic)
        kept = len(quarantined(db))
    finally:
        db.close()
    rows = [{"stage": "relay", "position": relayed, "behind": last - relayed, "as_of": _iso(watermark)}]
    rows += [{"stage": f"partition {p}", "position": position, "behind": relayed - position, "as_of": _iso(mark)} for p, position, mark in partitions]
    out.print(f"event log: {last:,} events")
    print_rows(out, rows, "table")
    if kept:
        out.print(f"{kept:,} events quarantined, skipped (cdp quarantine list)")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else ""


def _with_extra(module: str, command: str) -> ModuleType:
    """``module``, or one line naming the extra to install when it needs one that is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if (error.name or "").split(".")[0] not in _EXTRA:
            raise
        raise CdpError(f"`cdp {command}` needs the scale-out extra ({error.name} is not installed): pip install 'cdp[scaleout]'") from None


def _require_postgres(settings: Settings) -> Settings:
    if settings.event_store.backend != "postgres":
        raise CdpError("the scale-out runner needs the PostgreSQL event store: set event_store.backend = \"postgres\" (CDP_EVENT_STORE__BACKEND=postgres)")
    return settings


async def _relay(relay: ModuleType, settings: Settings, follow: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    kafka = settings.kafka
    await relay.ensure_topic(kafka)
    client = relay.producer(kafka)
    await client.start()
    try:
        await relay.wait_for_partitions(client, kafka.topic)
        with Platform(settings) as platform:
            state = RelayState(connect(settings.event_store.postgres))
            if not state.claim():
                raise CdpError("another relay is running on this event store: identity needs the log's order, so only one may run")
            runner = relay.Relay(platform.events.store, platform.events.sealer, state, platform.warehouse, settings.identity, settings.batch_size, client, kafka.topic)
            return await runner.run(follow, should_stop=stop.is_set)
    finally:
        await client.stop()
