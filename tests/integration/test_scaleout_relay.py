"""Only one relay runs on an event store: identity resolution needs the log's total order."""

from cdp.config import PostgresSettings
from cdp.scaleout.state import RelayState, connect
from tests.services.postgres import PostgresServer


def test_a_second_relay_is_refused_until_the_first_is_gone(postgres: PostgresServer):
    settings = PostgresSettings(host=postgres.host, port=postgres.port, dbname=postgres.dbname, user=postgres.user, password=postgres.password)
    first = connect(settings)
    assert RelayState(first).claim()
    second = connect(settings)
    assert not RelayState(second).claim()
    first.close()  # a relay that dies (even SIGKILLed) drops its connection, and the lock with it
    assert RelayState(second).claim()
    second.close()

