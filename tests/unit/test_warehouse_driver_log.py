"""What `cdp.warehouse` sets up in clickhouse-driver. Its "Error on socket shutdown" warning, when it disconnects a socket the server
has reset, never reaches a command's stderr once ``cdp.warehouse`` is imported; its other warnings do."""

import os
import subprocess
import sys

import pytest

DISCONNECT_A_RESET_SOCKET = """
import logging, socket, struct, sys, time
if sys.argv[1] == "platform":
    import cdp.warehouse
from clickhouse_driver.connection import Connection
listener = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(listener.getsockname())
accepted, _ = listener.accept()
accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
accepted.close()  # the peer resets the connection, as a server that stopped does
time.sleep(0.2)
connection = Connection("127.0.0.1", listener.getsockname()[1])
connection.socket, connection.connected = client, True
connection.disconnect()
logging.getLogger("clickhouse_driver.connection").warning("another warning")
"""


@pytest.mark.parametrize(("imports", "expected"), [
    ("driver only", "Error on socket shutdown: [Errno 107] Transport endpoint is not connected\nanother warning\n"),
    ("platform", "another warning\n"),
], ids=["driver only", "platform imported"])
def test_only_the_shutdown_of_a_reset_socket_is_silenced(imports: str, expected: str):
    done = subprocess.run([sys.executable, "-c", DISCONNECT_A_RESET_SOCKET, imports], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode() == expected


def test_the_drivers_date_table_is_lazy_unless_the_user_chose():
    """``cdp.warehouse`` asks clickhouse-driver for its lazy date table (not the 146,097 dates built at
    import); a value the user set stands. Dates still convert both ways."""
    check = (
        "import cdp.warehouse.backends, datetime\n"
        "from clickhouse_driver.columns import datecolumn as d\n"
        "print(type(d._date_lut).__name__, len(d._date_lut), d._date_lut[20000], d._date_lut_reverse[datetime.date(2024, 10, 4)])"
    )
    environment = {name: value for name, value in os.environ.items() if name != "CLICKHOUSE_DRIVER_LASY_DATE_LUT"}
    lazy = subprocess.run([sys.executable, "-c", check], capture_output=True, timeout=60, env=environment)
    assert lazy.stdout.decode().split() == ["LazyLUT", "0", "2024-10-04", "20000"], lazy.stderr.decode()
    chosen = subprocess.run([sys.executable, "-c", check], capture_output=True, timeout=60, env={**environment, "CLICKHOUSE_DRIVER_LASY_DATE_LUT": ""})
    assert chosen.stdout.decode().split()[:2] == ["dict", "146097"], chosen.stderr.decode()
