"""The embedded warehouse: chDB, a persistent ClickHouse database under the data directory.

One session serves every thread (the server's runner and its read API): statements run one at a
time, because a chDB session's query parameters are shared state (concurrent queries saw each
other's parameters, or none).
"""

import threading
from pathlib import Path
from typing import Any

import orjson
from chdb import session

from cdp.errors import QueryRefused, WarehouseBusy
from cdp.warehouse.statements import first_line, quote_string, single_statement


class ChdbWarehouse:
    def __init__(self, path: Path, database: str):
        path.mkdir(parents=True, exist_ok=True)
        self.database = database
        self._lock = threading.RLock()
        try:
            self._session = session.Session(str(path))
        except RuntimeError as error:
            raise WarehouseBusy(
                f"the warehouse at {path} is open in another process (a running `cdp run --follow`?); "
                f"stop that process first ({first_line(str(error))})"
            ) from None
        self.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")

    def execute(self, sql: str) -> None:
        self._run(sql, "CSV")

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        body = b"\n".join(orjson.dumps(r, option=orjson.OPT_UTC_Z) for r in rows).decode()
        self._run(f"INSERT INTO `{self.database}`.`{table}` SETTINGS date_time_input_format='best_effort' FORMAT JSONEachRow\n{body}", "CSV")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        result = self._run(single_statement(sql), "JSONEachRow", params)
        return [orjson.loads(line) for line in result.splitlines() if line]

    def make_read_only(self) -> None:
        self._run("SET readonly = 1", "CSV")

    def close(self) -> None:
        self._session.close()

    def _run(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        try:
            with self._lock:
                return self._session.query(sql, fmt, params={k: _literal(v) for k, v in (params or {}).items()}).bytes()
        except RuntimeError as error:
            raise QueryRefused(first_line(str(error))) from None


_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _literal(value: Any) -> Any:
    """Query parameters reach chDB as text in ClickHouse's escaped format (so a backslash, tab or
    newline in a value is escaped, or it would change the value or fail); arrays in its literal syntax."""
    if isinstance(value, str):
        return value.translate(_ESCAPED)
    if isinstance(value, list | tuple):
        return "[" + ",".join(quote_string(v) if isinstance(v, str) else str(v) for v in value) + "]"
    return value
