"""``cdp warehouse ...``: the embedded default's ClickHouse server — status, start, stop, and how BI tools connect."""

from typing import Annotated

import typer

from cdp.cli.options import ConfigFile, DataDir, out
from cdp.config import Settings, load_settings
from cdp.errors import CdpError
from cdp.services.warehouse import WarehouseService

warehouse_app = typer.Typer(help="The warehouse server the platform manages on the embedded default, and how BI tools connect to it.", no_args_is_help=True)


def _service(data_dir, config) -> WarehouseService:
    settings: Settings = load_settings(config, data_dir=data_dir)
    return WarehouseService(settings)


@warehouse_app.command("status")
def status(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Whether the server runs, where it listens, and whether it stops when idle."""
    state = _service(data_dir, config).status()
    if not state.running:
        out.print(f"not running (it starts when a command or `cdp serve` needs it); ports kept for it: native {state.tcp_port}, HTTP {state.http_port}")
        return
    stops = "pinned: runs until `cdp warehouse stop`" if state.pinned else f"stops after {state.idle_stop_seconds:g} s with no client connected"
    out.print(f"running (pid {state.pid}) on 127.0.0.1: native {state.tcp_port}, HTTP {state.http_port}; {stops}")


@warehouse_app.command("start")
def start(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Start the server and keep it running (for BI tools while nothing else runs) until `cdp warehouse stop`."""
    state = _service(data_dir, config).start()
    out.print(f"running (pid {state.pid}) on 127.0.0.1: native {state.tcp_port}, HTTP {state.http_port}; `cdp warehouse connect` prints how BI tools connect")


@warehouse_app.command("stop")
def stop(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Stop the server (processes still using it start it again when they need it)."""
    out.print("stopped" if _service(data_dir, config).stop() else "not running")


@warehouse_app.command("connect")
def connect(
    tool: Annotated[str, typer.Argument(help="all, clickhouse-client, clickhouse-driver, clickhouse-connect, superset, metabase, grafana, dbeaver or url.")] = "all",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """How a BI tool connects as the read-only BI user (SELECT on the platform's database only; docs/bi.md)."""
    details = _service(data_dir, config).bi_connection()
    chosen = details.instructions() if tool == "all" else {tool: details.instructions().get(tool)}
    if None in chosen.values():
        raise CdpError(f"unknown tool {tool!r}: one of all, {', '.join(details.instructions())}")
    for name, text in chosen.items():
        out.print(name, style="bold", markup=False, highlight=False)
        out.print(f"{text}\n", markup=False, highlight=False)
