"""A ClickHouse connection used a moment ago is not pinged before the next query
(``cdp.warehouse.recent_connection``), and one that died meanwhile is still replaced: the query
fails with a network error and the warehouse retries it on a fresh connection."""

import socket
import uuid

from clickhouse_driver import Client

from cdp.warehouse import recent_connection
from cdp.warehouse.clickhouse_backend import ClickHouseWarehouse
from cdp.warehouse.recent_connection import without_idle_ping
from tests.services.clickhouse import ClickHouseServer


class CountsPings:
    """Opens clients as ``open_warehouse`` does and counts the pings their connections send."""

    def __init__(self, server: ClickHouseServer):
        self.server, self.pings, self.clients = server, 0, []

    def __call__(self) -> Client:
        client = without_idle_ping(Client(self.server.host, port=self.server.port))
        ping = client.connection.ping

        def counted() -> bool:
            self.pings += 1
            return ping()

        client.connection.ping = counted
        self.clients.append(client)
        return client


def test_a_connection_used_a_moment_ago_is_not_pinged(clickhouse: ClickHouseServer):
    connect = CountsPings(clickhouse)
    warehouse = ClickHouseWarehouse(connect, f"t_{uuid.uuid4().hex[:12]}")
    for _ in range(5):
        assert warehouse.query("SELECT 1 AS one") == [{"one": 1}]
    assert connect.pings == 0


def test_an_idle_connection_is_pinged_first(clickhouse: ClickHouseServer, monkeypatch):
    connect = CountsPings(clickhouse)
    warehouse = ClickHouseWarehouse(connect, f"t_{uuid.uuid4().hex[:12]}")
    monkeypatch.setattr(recent_connection, "FRESH_SECONDS", 0.0)  # every connection counts as idle
    warehouse.query("SELECT 1 AS one")
    warehouse.query("SELECT 1 AS one")
    assert connect.pings == 2


def test_a_connection_that_died_meanwhile_is_replaced(clickhouse: ClickHouseServer):
    connect = CountsPings(clickhouse)
    warehouse = ClickHouseWarehouse(connect, f"t_{uuid.uuid4().hex[:12]}", backoff_seconds=0)
    warehouse.query("SELECT 1 AS one")
    connect.clients[-1].connection.socket.shutdown(socket.SHUT_RDWR)  # as a server going away does
    assert warehouse.query("SELECT 2 AS two") == [{"two": 2}]
    assert len(connect.clients) == 2 and connect.pings == 0
