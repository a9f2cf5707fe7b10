"""The warehouse on a real chDB database under the data directory."""

from datetime import UTC, datetime

import pytest

from cdp.config import Settings
from cdp.errors import QueryRefused
from cdp.warehouse.chdb_backend import ChdbWarehouse
from cdp.warehouse.migrations import MIGRATIONS, migrate
from projections.tables import TABLES


@pytest.fixture
def warehouse(settings: Settings):
    w = ChdbWarehouse(settings.warehouse_path, "cdp")
    yield w
    w.close()


def test_migrations_create_every_table_once(warehouse: ChdbWarehouse):
    assert migrate(warehouse) == [number for number, _, _ in MIGRATIONS]
    assert migrate(warehouse) == []
    tables = {row["name"] for row in warehouse.query("SELECT name FROM system.tables WHERE database = 'cdp'")}
    assert {t.name for t in TABLES} | {"schema_migrations"} <= tables


def test_every_column_is_documented(warehouse: ChdbWarehouse):
    migrate(warehouse)
    rows = warehouse.query("SELECT table, name, comment FROM system.columns WHERE database = 'cdp' AND table != 'schema_migrations'")
    assert rows and all(row["comment"] for row in rows)


def test_replayed_rows_collapse_to_the_latest_version(warehouse: ChdbWarehouse):
    migrate(warehouse)
    identity = {"identifier": "email:a@example.com", "id_type": "email", "customer_id": "c1", "version": 3}
    warehouse.insert("identities", [identity, identity, identity | {"customer_id": "c2", "version": 9}])
    rows = warehouse.query("SELECT identifier, customer_id FROM cdp.identities FINAL")
    assert rows == [{"identifier": "email:a@example.com", "customer_id": "c2"}]


def test_parameters_are_never_spliced_into_sql(warehouse: ChdbWarehouse):
    migrate(warehouse)
    hostile = "x' OR 1=1 --"
    warehouse.insert("identities", [{"identifier": "email:x", "id_type": "email", "customer_id": "c1", "version": 1}])
    rows = warehouse.query("SELECT count() AS n FROM cdp.identities WHERE identifier IN {ids:Array(String)}", {"ids": [hostile, "a\\'b"]})
    assert rows == [{"n": 0}]


def test_data_persists_across_sessions(settings: Settings):
    w = ChdbWarehouse(settings.warehouse_path, "cdp")
    migrate(w)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    w.insert("customer_merges", [{"absorbed": "a", "survivor": "b", "position": 1, "occurred_at": at, "reason": "r"}])
    w.close()
    again = ChdbWarehouse(settings.warehouse_path, "cdp")
    assert again.query("SELECT absorbed, occurred_at FROM cdp.customer_merges") == [{"absorbed": "a", "occurred_at": "2025-01-01 00:00:00.000"}]
    again.close()


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO cdp.identities (identifier) VALUES ('x')",
        "DROP TABLE cdp.events",
        "ALTER TABLE cdp.events DELETE WHERE 1",
        "SET readonly = 0",
        "SELECT * FROM file('/etc/passwd', 'LineAsString')",
        "CREATE TABLE cdp.t (a UInt8) ENGINE = Memory",
    ],
)
def test_read_only_mode_refuses_writes(warehouse: ChdbWarehouse, statement: str):
    migrate(warehouse)
    warehouse.make_read_only()
    with pytest.raises(QueryRefused, match="readonly"):
        warehouse.query(statement)
    assert warehouse.query("SELECT count() AS n FROM system.tables WHERE database = 'cdp' AND name = 'events'") == [{"n": 1}]


@pytest.mark.parametrize("statement", ["SELECT 1; DROP TABLE cdp.events", "SELECT 1 -- x\n; SELECT 2", "SELECT ';' ; SELECT 2"])
def test_one_statement_at_a_time(warehouse: ChdbWarehouse, statement: str):
    with pytest.raises(QueryRefused, match="one statement at a time"):
        warehouse.query(statement)


def test_semicolons_inside_strings_and_at_the_end_are_fine(warehouse: ChdbWarehouse):
    assert warehouse.query("SELECT ';' AS a, 'it\\'s;' AS b -- ;\n;") == [{"a": ";", "b": "it's;"}]
