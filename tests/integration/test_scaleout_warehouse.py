"""The ClickHouse server backend under the scale-out workers: transient server errors (too many
parts, overload) are retried with the same deduplication token; other server errors are not, nor
a read that reached its own time or memory limit."""

import uuid

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from cdp.errors import QueryRefused
from cdp.warehouse.clickhouse_backend import ClickHouseWarehouse
from cdp.warehouse.migrations import migrate
from tests.integration.wh_contract import event_row
from tests.services.clickhouse import ClickHouseServer


class RefusesInserts:
    """A client whose next ``fail`` INSERTs raise the server error ``code``, after (``landed``) or before the server stored them."""

    def __init__(self, client: Client, code: int, landed: bool):
        self.client, self.code, self.landed, self.fail, self.tokens = client, code, landed, 0, []

    def execute(self, sql, *args, **kwargs):
        if sql.startswith("INSERT"):
            self.tokens.append(kwargs["settings"]["insert_deduplication_token"])
            if self.fail:
                self.fail -= 1
                if self.landed:
                    self.client.execute(sql, *args, **kwargs)
                raise ServerException(f"Code: {self.code}. DB::Exception: refused for the test", code=self.code)
        return self.client.execute(sql, *args, **kwargs)

    def disconnect(self):
        self.client.disconnect()


@pytest.mark.parametrize("landed", [True, False], ids=["stored-then-error", "refused"])
def test_a_transient_server_error_is_retried_with_the_same_token(clickhouse: ClickHouseServer, landed: bool):
    database = f"t_{uuid.uuid4().hex[:12]}"
    setup = ClickHouseWarehouse(lambda: Client(clickhouse.host, port=clickhouse.port), database)
    migrate(setup)
    flaky = RefusesInserts(Client(clickhouse.host, port=clickhouse.port), code=252, landed=landed)  # TOO_MANY_PARTS
    warehouse = ClickHouseWarehouse(lambda: flaky, database, retries=2, backoff_seconds=0)
    flaky.fail = 2
    warehouse.insert("events", [event_row(1), event_row(2)])
    rows = setup.query(f"SELECT position, count() AS copies FROM `{database}`.events GROUP BY position ORDER BY position")  # no FINAL: raw copies
    assert rows == [{"position": 1, "copies": 1}, {"position": 2, "copies": 1}]
    assert len(flaky.tokens) == 3 and len(set(flaky.tokens)) == 1


def test_a_lasting_or_permanent_server_error_is_refused(clickhouse: ClickHouseServer):
    database = f"t_{uuid.uuid4().hex[:12]}"
    migrate(ClickHouseWarehouse(lambda: Client(clickhouse.host, port=clickhouse.port), database))
    for code, fail, attempts in ((252, 5, 3), (60, 1, 1)):  # too many parts beyond the retries; UNKNOWN_TABLE at once
        flaky = RefusesInserts(Client(clickhouse.host, port=clickhouse.port), code=code, landed=False)
        warehouse = ClickHouseWarehouse(lambda: flaky, database, retries=2, backoff_seconds=0)
        flaky.fail = fail
        with pytest.raises(QueryRefused, match="refused for the test"):
            warehouse.insert("events", [event_row(3)])
        assert len(flaky.tokens) == attempts


class Counting:
    """A client counting the statements it is given."""

    def __init__(self, client: Client):
        self.client, self.calls = client, 0

    def execute(self, sql, *args, **kwargs):
        self.calls += 1
        return self.client.execute(sql, *args, **kwargs)

    def disconnect(self):
        self.client.disconnect()


def test_a_read_past_its_own_time_or_memory_limit_is_tried_once(clickhouse: ClickHouseServer):
    """The same query reaches its limits again: retried, one query at the 60 s limit held a core for four minutes."""
    counting = Counting(Client(clickhouse.host, port=clickhouse.port))
    warehouse = ClickHouseWarehouse(lambda: counting, f"t_{uuid.uuid4().hex[:12]}", retries=3, backoff_seconds=0)
    for sql, code in (
        ("SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) = 1 SETTINGS max_execution_time = 1", "Timeout exceeded"),
        ("SELECT length(groupArray(randomString(1000))) FROM numbers(1000000) SETTINGS max_memory_usage = 10000000", "[Mm]emory limit"),
    ):
        before = counting.calls
        with pytest.raises(QueryRefused, match=code):
            warehouse.query(sql)
        assert counting.calls - before == 1
