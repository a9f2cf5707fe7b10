"""The warehouse: a ClickHouse server (24.8+) over the native protocol (clickhouse-driver), the
embedded default's managed server (``cdp.warehouse.managed``) or your own.

Inserts are columnar and compressed. A failed network round trip is retried on a fresh
connection (made by ``connect``, which starts the managed server again if it stopped), and a
transient server error (overload, too many parts, ...) after a pause. Each
insert carries a deduplication token derived from its rows, the same on every attempt, so a
retried batch whose first attempt did land is dropped by the server instead of being stored twice
(tables set ``non_replicated_deduplication_window``, see migration 10). Results come back as JSON
values (``column_types.to_json_value``).
"""

import contextvars
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from typing import Any

import orjson
from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError
from clickhouse_driver.errors import NetworkError, ServerException, SocketTimeoutError

from cdp.errors import QueryRefused, WarehouseUnavailable
from cdp.warehouse import column_types
from cdp.warehouse.statements import first_line, single_statement

RETRYABLE = (NetworkError, SocketTimeoutError, EOFError, ConnectionError, TimeoutError)
# Server errors that pass: overload, a replica briefly read-only, an insert whose fate is unknown.
# Retried like network failures; an insert keeps its deduplication token, so one that did land is dropped.
TRANSIENT_SERVER_ERRORS = frozenset({
    159,  # TIMEOUT_EXCEEDED
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS
    319,  # UNKNOWN_STATUS_OF_INSERT
    999,  # KEEPER_EXCEPTION
})
# A read's own limits: the same query reaches them again, so a read that did is not retried (retried,
# a query at the 60 s limit held a core four minutes; found by a security review)
READ_LIMITS = frozenset({159, 241})  # TIMEOUT_EXCEEDED, MEMORY_LIMIT_EXCEEDED


# the connection a ``parallel`` call runs its queries over (unset: the warehouse's own)
_READ_LANE: contextvars.ContextVar["ClickHouseWarehouse | None"] = contextvars.ContextVar("cdp_read_lane", default=None)

# What an insert costs the server whatever its size, in rows' worth (for spreading tables over connections)
_ROWS_PER_INSERT = 2000


def _insert_each(warehouse: "ClickHouseWarehouse", items: list[tuple[str, list[dict[str, Any]]]]) -> None:
    for table, rows in items:
        warehouse.insert(table, rows)


class ClickHouseWarehouse:
    def __init__(
        self, connect: Callable[[], Client], database: str, retries: int = 3, backoff_seconds: float = 0.2, create_database: bool = True, insert_connections: int = 1
    ):
        """``connect`` gives a client (which connects on first use), again after a network failure;
        ``create_database=False`` for a user that may only read; ``insert_connections``: how many
        connections ``insert_tables`` writes over at once."""
        self.database = database
        self._connect = connect
        self._client = connect()
        self._retries = retries
        self._backoff = backoff_seconds
        self._settings: dict[str, Any] = {}
        self._columns: dict[str, list[tuple[str, tuple]]] = {}
        self._lock = threading.RLock()  # a clickhouse-driver client runs one query at a time; threads (runner, read API) share it
        self._insert_connections = insert_connections
        self._lanes: list[ClickHouseWarehouse] = []  # the other connections of insert_tables, opened on first use
        self._lanes_lock = threading.Lock()
        if create_database:
            self.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")

    def execute(self, sql: str) -> None:
        self._call(sql)

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = [(name, kind) for name, kind in self._table_columns(table) if name in rows[0]]
        data = []
        for name, kind in columns:
            values = list(map(itemgetter(name), rows))  # half a list comprehension's time (BENCHMARKS.md, issue 23)
            convert = column_types.insert_converter(kind)
            data.append(values if convert is None else [None if v is None else convert(v) for v in values])
        names = ", ".join(f"`{name}`" for name, _ in columns)
        # the columns as sent, not the rows: no key repeated in every row; SHA-256 has the processor's
        # instructions where blake2b has none (a third of its time; BENCHMARKS.md, issue 23)
        token = hashlib.sha256(f"{table}({names})".encode() + orjson.dumps(data, option=orjson.OPT_UTC_Z)).hexdigest()[:32]
        self._call(f"INSERT INTO `{self.database}`.`{table}` ({names}) VALUES", data, columnar=True, settings={"insert_deduplication_token": token})

    def insert_tables(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        """Inserts into several tables at once, over ``insert_connections`` connections in parallel
        (largest tables first, each on the least loaded connection). A server spends ~15 ms on any
        insert whatever its size (a new part per table); one after another, a projection batch's
        twenty tables waited for each in turn (BENCHMARKS.md, issue 23). Raises the first failure
        once every insert has ended; each insert keeps its own deduplication token, so a retried
        batch is dropped where it had landed."""
        tables = sorted(((table, table_rows) for table, table_rows in rows.items() if table_rows), key=lambda item: -len(item[1]))
        if len(tables) <= 1 or self._insert_connections == 1:
            for table, table_rows in tables:
                self.insert(table, table_rows)
            return
        lanes = [self, *self._other_lanes()]
        loads, work = [0] * len(lanes), [[] for _ in lanes]
        for table, table_rows in tables:
            lane = loads.index(min(loads))
            loads[lane] += len(table_rows) + _ROWS_PER_INSERT
            work[lane].append((table, table_rows))
        with ThreadPoolExecutor(len(lanes), thread_name_prefix="cdp-insert") as pool:
            done = [pool.submit(_insert_each, lane, items) for lane, items in zip(lanes, work, strict=True) if items]
        for future in done:
            future.result()

    def parallel(self, calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """Runs independent calls at once, each one's queries over a connection of its own (the
        ``insert_connections`` of ``insert_tables``): name → result. A small read costs a round
        trip and the server's planning whatever its size; one after another, the ~20 reads of a
        customer's 360° view waited for each in turn (BENCHMARKS.md, the console). Raises the
        first failure once every call has ended."""
        lanes: queue.SimpleQueue[ClickHouseWarehouse] = queue.SimpleQueue()
        for lane in [self, *self._other_lanes()][: len(calls)]:
            lanes.put(lane)

        def on_a_lane(call: Callable[[], Any]) -> Any:
            lane = lanes.get()
            token = _READ_LANE.set(lane)
            try:
                return call()
            finally:
                _READ_LANE.reset(token)
                lanes.put(lane)

        with ThreadPoolExecutor(max(1, min(len(calls), self._insert_connections)), thread_name_prefix="cdp-read") as pool:
            done = {name: pool.submit(on_a_lane, call) for name, call in calls.items()}
        return {name: future.result() for name, future in done.items()}

    def _other_lanes(self) -> list["ClickHouseWarehouse"]:
        with self._lanes_lock:
            if not self._lanes:
                self._lanes = [
                    ClickHouseWarehouse(self._connect, self.database, self._retries, self._backoff, create_database=False) for _ in range(self._insert_connections - 1)
                ]
                for lane in self._lanes:
                    lane._settings = self._settings  # one dict: read-only (make_read_only) holds on every connection
            return self._lanes

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        lane = _READ_LANE.get()
        if lane is not None and lane is not self and lane in self._lanes:
            return lane.query(sql, params)
        rows, types = self._call(single_statement(sql), params or {}, with_column_types=True, settings={"server_side_params": True}, transient=TRANSIENT_SERVER_ERRORS - READ_LIMITS)
        kinds = [(name, column_types.parse(kind)) for name, kind in types]
        return [{name: column_types.to_json_value(kind, value) for (name, kind), value in zip(kinds, row, strict=True)} for row in rows]

    def make_read_only(self) -> None:
        self._settings["readonly"] = 1

    def close(self) -> None:
        for lane in self._lanes:
            lane.close()
        self._client.disconnect()

    def _table_columns(self, table: str) -> list[tuple[str, tuple]]:
        if table not in self._columns:
            rows = self._call(
                "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position",
                {"db": self.database, "table": table},
                settings={"server_side_params": True},
            )
            if not rows:
                raise QueryRefused(f"no table {self.database}.{table}")
            self._columns[table] = [(name, column_types.parse(kind)) for name, kind in rows]
        return self._columns[table]

    def _call(self, sql: str, *args: Any, settings: dict[str, Any] | None = None, transient: frozenset[int] = TRANSIENT_SERVER_ERRORS, **kwargs: Any) -> Any:
        """``transient``: the server's error codes that are retried."""
        with self._lock:
            return self._call_with_retries(sql, *args, settings={**(settings or {}), **self._settings}, transient=transient, **kwargs)

    def _call_with_retries(self, sql: str, *args: Any, settings: dict[str, Any], transient: frozenset[int], **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                return self._client.execute(sql, *args, settings=settings, **kwargs)
            except ServerException as error:
                if error.code not in transient or attempt == self._retries:
                    raise QueryRefused(first_line(error.message)) from None
                time.sleep(self._backoff * 2**attempt)
                attempt += 1
            except RETRYABLE as error:
                if attempt == self._retries:
                    raise WarehouseUnavailable(f"ClickHouse server unreachable after {attempt + 1} attempts: {first_line(str(error))}") from None
                self._client.disconnect()
                time.sleep(self._backoff * 2**attempt)
                self._client = self._connect()
                attempt += 1
            except DriverError as error:
                raise WarehouseUnavailable(f"ClickHouse server: {first_line(str(error))}") from None
