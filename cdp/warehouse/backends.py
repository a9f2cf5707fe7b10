"""Opens the configured warehouse backend. Backends are imported only when chosen."""

from pathlib import Path

from cdp.config import WarehouseSettings
from cdp.warehouse import Warehouse


def open_warehouse(settings: WarehouseSettings, embedded_path: Path, as_query_user: bool = False) -> Warehouse:
    """The warehouse ``settings`` name; ``embedded_path`` is where chDB keeps its files. ``as_query_user``:
    connect to the server as ``settings.query_user`` (which may only read), not as the writing user."""
    if settings.backend == "clickhouse":
        from clickhouse_driver import Client

        from cdp.warehouse.clickhouse_backend import ClickHouseWarehouse

        client = Client(
            settings.host,
            port=settings.port,
            user=settings.query_user if as_query_user else settings.user,
            password=(settings.query_password if as_query_user else settings.password).get_secret_value(),
            secure=settings.secure,
            compression=False if settings.compression == "none" else settings.compression,
            connect_timeout=settings.connect_timeout_seconds,
            send_receive_timeout=settings.send_receive_timeout_seconds,
            client_name="cdp",
        )
        return ClickHouseWarehouse(client, settings.database, retries=settings.retries, create_database=not as_query_user)
    from cdp.warehouse.chdb_backend import ChdbWarehouse

    return ChdbWarehouse(embedded_path, settings.database)
