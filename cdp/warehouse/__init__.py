"""The analytical warehouse: a small interface over a ClickHouse server (``clickhouse_backend``),
the one the platform manages on the embedded default (``managed``) or your own (``backends``).
"""

from collections.abc import Callable, Mapping
from typing import Any, Protocol


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
