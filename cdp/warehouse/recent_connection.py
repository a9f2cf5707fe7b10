"""A clickhouse-driver connection that does not ping the server before a query when it was used a moment ago.

clickhouse-driver sends a ping and waits for the pong before every query on an open connection
(``Connection.force_connect``): a round trip per query, which a scale-out worker writing a batch
paid again for each of its ~20 inserts (BENCHMARKS.md, "Speed (issue 23)"). A connection that
received a packet less than ``FRESH_SECONDS`` ago skips it. Should the server have gone away
meanwhile, the query itself fails with a network error and ``ClickHouseWarehouse`` retries it on a
fresh connection, as it does after any network failure (an insert keeps its deduplication token);
an idle connection is still pinged first, as before.
"""

import time

from clickhouse_driver import Client
from clickhouse_driver.connection import Connection

FRESH_SECONDS = 5.0  # far below a server's idle connection timeout (idle_connection_timeout: 3600 s by default)


class RecentConnection(Connection):
    """``Connection`` whose ``force_connect`` pings only after ``FRESH_SECONDS`` without a packet."""

    last_received = float("-inf")  # monotonic time of the last packet from the server

    def force_connect(self) -> None:
        if self.connected and time.monotonic() - self.last_received < FRESH_SECONDS:
            self.check_query_execution()
            return
        super().force_connect()

    def receive_packet(self):  # noqa: ANN201 (clickhouse-driver's Packet)
        packet = super().receive_packet()
        self.last_received = time.monotonic()
        return packet


def without_idle_ping(client: Client) -> Client:
    """``client`` with its connections made ``RecentConnection`` (clickhouse-driver builds them
    inside ``Client.__init__`` and has no option for their class; none has been used yet)."""
    for connection in [client.connection, *client.connections]:
        connection.__class__ = RecentConnection
    return client
