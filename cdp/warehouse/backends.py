"""Opens the warehouse: the managed server of the embedded default, or your own ClickHouse server.
Both are a ClickHouse server reached with clickhouse-driver, through one code path."""

from clickhouse_driver import Client

from cdp.config import Settings
from cdp.warehouse.clickhouse_backend import ClickHouseWarehouse
from cdp.warehouse.managed import QUERY, WRITER, ManagedServer
from cdp.warehouse.recent_connection import without_idle_ping


def open_warehouse(settings: Settings, as_query_user: bool = False) -> ClickHouseWarehouse:
    """The configured warehouse; ``as_query_user``: as the user that SQL a person wrote runs as
    (which may only read), not as the writing user."""
    warehouse = settings.warehouse
    timeouts = {"connect_timeout": warehouse.connect_timeout_seconds, "send_receive_timeout": warehouse.send_receive_timeout_seconds}
    if warehouse.backend == "embedded":
        server = ManagedServer.of(settings)
        user = QUERY if as_query_user else WRITER

        def connect() -> Client:
            server.ensure_running()
            return without_idle_ping(server.client(user, compression="lz4", **timeouts))
    else:
        def connect() -> Client:
            return without_idle_ping(Client(
                warehouse.host,
                port=warehouse.port,
                user=warehouse.query_user if as_query_user else warehouse.user,
                password=(warehouse.query_password if as_query_user else warehouse.password).get_secret_value(),
                secure=warehouse.secure,
                compression=False if warehouse.compression == "none" else warehouse.compression,
                client_name="cdp",
                **timeouts,
            ))
    return ClickHouseWarehouse(connect, warehouse.database, retries=warehouse.retries, create_database=not as_query_user, insert_connections=warehouse.insert_connections)
