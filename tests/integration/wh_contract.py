"""The warehouse contract: written once, run against every backend (subclassed per backend).

A subclass provides two fixtures: ``warehouse`` (a fresh, empty database) and ``reopen`` (a
callable that opens a second handle on the same data, as a new process would).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cdp.errors import QueryRefused
from cdp.warehouse import Warehouse
from cdp.warehouse.migrations import MIGRATIONS, migrate
from projections.tables import WAREHOUSE_TABLES

AT = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def event_row(position: int, event_type: str = "order_placed", amount: float = 10.0, customer: str = "c1") -> dict:
    return {
        "position": position, "message_id": f"m{position}", "event_type": event_type, "source_kind": "sales", "source_name": "shop",
        "occurred_at": AT, "received_at": AT, "customer_id": customer, "anonymous_id": "", "user_id": "", "email": "", "phone": "",
        "social": [], "account_id": "", "traits": "{}", "properties": f'{{"amount": {amount}, "currency": "CNY"}}', "context": "{}",
    }


class WarehouseContract:
    """Every backend's test class inherits these tests and provides two fixtures: ``warehouse`` (a
    migrated, empty warehouse) and ``reopen`` (opens the same warehouse again, as a restart would)."""

    def test_migrations_create_every_table_once(self, warehouse: Warehouse):
        assert migrate(warehouse) == [m.number for m in MIGRATIONS]
        assert migrate(warehouse) == []
        tables = {row["name"] for row in warehouse.query("SELECT name FROM system.tables WHERE database = {db:String}", {"db": warehouse.database})}
        assert {t.name for t in WAREHOUSE_TABLES} | {"schema_migrations", "profiles_current", "daily_events", "daily_sales"} <= tables

    def test_every_table_column_and_view_is_documented(self, warehouse: Warehouse):
        migrate(warehouse)
        db = {"db": warehouse.database}
        columns = warehouse.query(
            "SELECT c.table, c.name, c.comment FROM system.columns AS c INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table "
            "WHERE c.database = {db:String} AND t.engine LIKE '%MergeTree' AND c.table != 'schema_migrations'", db)
        assert columns and [c for c in columns if not c["comment"]] == []
        views = warehouse.query("SELECT name, comment FROM system.tables WHERE database = {db:String} AND engine = 'View'", db)
        assert views and [v for v in views if not v["comment"]] == []

    def test_replayed_rows_collapse_to_the_latest_version(self, warehouse: Warehouse):
        migrate(warehouse)
        identity = {"identifier": "email:a@example.com", "id_type": "email", "customer_id": "c1", "version": 3}
        warehouse.insert("identities", [identity, identity, identity | {"customer_id": "c2", "version": 9}])
        rows = warehouse.query(f"SELECT identifier, customer_id FROM `{warehouse.database}`.identities FINAL")
        assert rows == [{"identifier": "email:a@example.com", "customer_id": "c2"}]
        assert warehouse.query(f"SELECT identifier, customer_id FROM `{warehouse.database}`.identities_current") == rows

    def test_parameters_are_never_spliced_into_sql(self, warehouse: Warehouse):
        migrate(warehouse)
        warehouse.insert("identities", [{"identifier": "x' OR 1=1 --", "id_type": "email", "customer_id": "c1", "version": 1}])
        sql = f"SELECT count() AS n FROM `{warehouse.database}`.identities WHERE identifier IN {{ids:Array(String)}}"
        assert warehouse.query(sql, {"ids": ["x' OR 1=1 --", "a\\'b"]}) == [{"n": 1}]
        assert warehouse.query(sql, {"ids": ["x"]}) == [{"n": 0}]
        assert warehouse.query("SELECT {s:String} AS s, {n:Float64} AS n, {d:DateTime64(3, 'UTC')} AS d", {"s": "it's; DROP", "n": 2.5, "d": "2025-01-02 03:04:05.678"}) == [
            {"s": "it's; DROP", "n": 2.5, "d": "2025-01-02 03:04:05.678"}
        ]

    def test_rows_round_trip_with_the_same_values(self, warehouse: Warehouse):
        migrate(warehouse)
        row = event_row(1) | {"social": ["wechat:ann"], "occurred_at": "2025-03-04 05:06:07.890", "traits": '{"城市": "上海"}'}
        warehouse.insert("events", [row])
        (back,) = warehouse.query(f"SELECT * FROM `{warehouse.database}`.events FINAL")
        assert back == row | {"received_at": "2025-03-04 05:06:07.890"}

    def test_insert_tables_writes_each_table_as_insert_does(self, warehouse: Warehouse):
        migrate(warehouse)
        before_epoch = datetime(1969, 12, 31, 23, 59, 58, 123456, tzinfo=UTC)  # clickhouse-driver's own conversion makes it 23:59:59.123
        in_shanghai = AT.astimezone(timezone(timedelta(hours=8)))  # the same instant
        events = [event_row(1), event_row(2) | {"occurred_at": in_shanghai}, event_row(3) | {"occurred_at": before_epoch}]
        merges = [{"absorbed": f"a{n}", "survivor": "b", "position": n, "occurred_at": AT, "reason": "r"} for n in range(3)]
        warehouse.insert_tables({"events": events, "customer_merges": merges, "identities": []})
        db = warehouse.database
        assert warehouse.query(f"SELECT position, occurred_at FROM `{db}`.events ORDER BY position") == [
            {"position": 1, "occurred_at": "2025-03-04 05:06:07.890"},
            {"position": 2, "occurred_at": "2025-03-04 05:06:07.890"},
            {"position": 3, "occurred_at": "1969-12-31 23:59:58.123"},
        ]
        assert warehouse.query(f"SELECT absorbed FROM `{db}`.customer_merges ORDER BY absorbed") == [{"absorbed": f"a{n}"} for n in range(3)]

    def test_result_values_have_one_form_on_every_backend(self, warehouse: Warehouse):
        rows = warehouse.query(
            "SELECT toDateTime64('2025-01-02 03:04:05.678', 3, 'UTC') AS dt64, toDateTime('2025-01-02 03:04:05', 'UTC') AS dt, "
            "toDate('2025-01-02') AS d, CAST(NULL AS Nullable(UInt8)) AS null, [1, 2] AS arr, map('k', toDateTime64('2025-01-02 03:04:05', 3, 'UTC')) AS m, "
            "toUInt64(18446744073709551615) AS u64, toInt64(-5) AS i64, 1.5 AS f, nan AS not_a_number, tuple(1, 'a') AS tup, "
            "toLowCardinality('z') AS lc, toDecimal64(1.25, 2) AS dec, toFloat32(0.1) AS f32, '中文' AS s, [NULL, 1] AS nulls"
        )
        assert rows == [{
            "dt64": "2025-01-02 03:04:05.678", "dt": "2025-01-02 03:04:05", "d": "2025-01-02", "null": None, "arr": [1, 2],
            "m": {"k": "2025-01-02 03:04:05.000"}, "u64": 18446744073709551615, "i64": -5, "f": 1.5, "not_a_number": None,
            "tup": [1, "a"], "lc": "z", "dec": 1.25, "f32": 0.1, "s": "中文", "nulls": [None, 1],
        }]

    def test_daily_rollups_count_a_replayed_batch_once(self, warehouse: Warehouse):
        migrate(warehouse)
        batch = [event_row(1, amount=10.5), event_row(2, amount=2.0), event_row(3, "order_refunded", amount=2.0), event_row(4, "page_viewed")]
        warehouse.insert("events", batch)
        warehouse.insert("events", batch[:2] + [event_row(2, amount=2.0, customer="c9")])  # a replay, reassigned
        db = warehouse.database
        sales = warehouse.query(f"SELECT day, source_name, currency, purchases, revenue, refunds, refunded FROM `{db}`.daily_sales")
        assert sales == [{"day": "2025-03-04", "source_name": "shop", "currency": "CNY", "purchases": 2, "revenue": 12.5, "refunds": 1, "refunded": 2.0}]
        events = warehouse.query(f"SELECT event_type, events FROM `{db}`.daily_events ORDER BY event_type")
        assert events == [{"event_type": "order_placed", "events": 2}, {"event_type": "order_refunded", "events": 1}, {"event_type": "page_viewed", "events": 1}]

    def test_events_written_before_the_rollups_existed_are_backfilled(self, warehouse: Warehouse):
        db = warehouse.database
        for migration in MIGRATIONS[:2]:
            for sql in migration.steps(db):
                warehouse.execute(sql)
            warehouse.execute(f"CREATE TABLE IF NOT EXISTS `{db}`.schema_migrations (number UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY number")
            warehouse.insert("schema_migrations", [{"number": migration.number, "name": "x"}])
        warehouse.insert("events", [event_row(1), event_row(2)])
        assert 10 in migrate(warehouse)
        assert warehouse.query(f"SELECT sum(events) AS n FROM `{db}`.daily_events") == [{"n": 2}]

    def test_data_persists_across_sessions(self, warehouse: Warehouse, reopen: Callable[[], Warehouse]):
        migrate(warehouse)
        warehouse.insert("customer_merges", [{"absorbed": "a", "survivor": "b", "position": 1, "occurred_at": AT, "reason": "r"}])
        warehouse.close()
        again = reopen()
        assert again.query(f"SELECT absorbed, occurred_at FROM `{again.database}`.customer_merges") == [{"absorbed": "a", "occurred_at": "2025-03-04 05:06:07.890"}]
        again.close()

    @pytest.mark.parametrize(
        "statement",
        [
            "INSERT INTO {db}.identities (identifier) VALUES ('x')",
            "DROP TABLE {db}.events",
            "ALTER TABLE {db}.events DELETE WHERE 1",
            "SET readonly = 0",
            "SELECT * FROM file('/etc/passwd', 'LineAsString')",
            "CREATE TABLE {db}.t (a UInt8) ENGINE = Memory",
        ],
    )
    def test_read_only_mode_refuses_writes(self, warehouse: Warehouse, statement: str):
        migrate(warehouse)
        warehouse.make_read_only()
        with pytest.raises(QueryRefused, match="readonly"):
            warehouse.query(statement.format(db=warehouse.database))
        assert warehouse.query("SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'events'", {"db": warehouse.database}) == [{"n": 1}]

    @pytest.mark.parametrize("statement", ["SELECT 1; DROP TABLE cdp.events", "SELECT 1 -- x\n; SELECT 2", "SELECT ';' ; SELECT 2"])
    def test_one_statement_at_a_time(self, warehouse: Warehouse, statement: str):
        with pytest.raises(QueryRefused, match="one statement at a time"):
            warehouse.query(statement)

    def test_semicolons_inside_strings_and_at_the_end_are_fine(self, warehouse: Warehouse):
        assert warehouse.query("SELECT ';' AS a, 'it\\'s;' AS b -- ;\n;") == [{"a": ";", "b": "it's;"}]

    def test_a_bad_query_is_refused_in_one_line(self, warehouse: Warehouse):
        with pytest.raises(QueryRefused) as refused:
            warehouse.query("SELECT no_such_column FROM system.one")
        assert "no_such_column" in str(refused.value) and "\n" not in str(refused.value)
