"""The analytical warehouse: a small interface over a ClickHouse server (``clickhouse_backend``),
the one the platform manages on the embedded default (``managed``) or your own (``backends``).

Every use of clickhouse-driver is in this package, so it also silences the driver's one pointless
warning: "Error on socket shutdown", logged when it disconnects a socket the server has already
closed (the managed server stopping for idleness just as a command connected, say). The
disconnection was what we asked for; on a command's stderr the record came before the command's
own one-line error (seen in CI). Every other record of the driver passes.

And it asks the driver, before the driver is imported, for its lazy date table
(``CLICKHOUSE_DRIVER_LASY_DATE_LUT``, the driver's spelling): by default the driver builds a
146,000-date table at import, 0.15–0.25 s of CPU in every process that opens the warehouse (every
`cdp` command, each managed server); lazily, each date is computed the first time it is read or
written and kept. Set the variable yourself to choose otherwise (the driver's "YYYY-MM-DD:YYYY-MM-DD"
warms a range).
"""

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol


def _not_a_closed_socket_shutdown(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Error on socket shutdown")


logging.getLogger("clickhouse_driver.connection").addFilter(_not_a_closed_socket_shutdown)
os.environ.setdefault("CLICKHOUSE_DRIVER_LASY_DATE_LUT", "lazy")  # not a range: nothing computed ahead


class Warehouse(Protocol):
    database: str

    def execute(self, sql: str) -> None:
        """Runs a statement that returns nothing (DDL)."""

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Inserts rows (dicts keyed by column name) into ``database.table``."""

    def insert_tables(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        """Inserts into several tables (name → rows), the tables in parallel where it can."""

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Runs a SELECT with server-side ``{name:Type}`` parameters; rows as dicts."""

    def parallel(self, calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """Runs independent calls (which query this warehouse) at once over several connections; name → result."""

    def make_read_only(self) -> None:
        """From now on, refuse every statement that would change data or settings."""

    def close(self) -> None: ...
