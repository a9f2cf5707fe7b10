"""A database with nothing in it is created by fewer statements than the migrations' full steps
(``Migration.fresh``, cdp/warehouse/migrations.py), and ends in the same schema: every table, view
and materialised view with the same DDL, and every migration recorded."""

import re
import uuid

from cdp.config import Settings
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import MIGRATIONS, migrate
from tests.integration.test_wh_clickhouse import server_settings
from tests.services.clickhouse import ClickHouseServer


def schema(warehouse: Warehouse) -> dict[str, str]:
    """Every object's DDL, its database's name taken out and its SETTINGS in one order (an ALTER
    appends a setting where a CREATE lists it in place). Not the table a refreshable view's refresh
    fills while it runs (``.tmp.inner_id.<uuid>``, there for a moment each minute)."""
    db = warehouse.database
    rows = warehouse.query("SELECT name, create_table_query AS ddl FROM system.tables WHERE database = {db:String} AND NOT startsWith(name, '.tmp.')", {"db": db})
    return {row["name"]: _settings_sorted(row["ddl"].replace(f"{db}.", "<db>.").replace(f"`{db}`.", "<db>.")) for row in rows}


def _settings_sorted(ddl: str) -> str:
    return re.sub(r"SETTINGS (.*?)( COMMENT '|$)", lambda m: "SETTINGS " + ", ".join(sorted(m.group(1).split(", "))) + m.group(2), ddl)


def recorded(warehouse: Warehouse) -> list[tuple[int, str]]:
    return [(r["number"], r["name"]) for r in warehouse.query(f"SELECT number, name FROM `{warehouse.database}`.schema_migrations FINAL ORDER BY number")]


def test_a_fresh_database_ends_in_the_schema_every_migrations_steps_give(clickhouse: ClickHouseServer, tmp_path):
    fresh = open_warehouse(Settings(data_dir=tmp_path, warehouse=server_settings(clickhouse)))
    stepwise = open_warehouse(Settings(data_dir=tmp_path, warehouse=server_settings(clickhouse)))
    leftover = f"leftover_{uuid.uuid4().hex[:8]}"
    stepwise.execute(f"CREATE DATABASE IF NOT EXISTS `{stepwise.database}`")
    stepwise.execute(f"CREATE TABLE `{stepwise.database}`.`{leftover}` (x UInt8) ENGINE = Memory")  # not empty: every migration's full steps
    try:
        assert migrate(fresh) == migrate(stepwise) == [m.number for m in MIGRATIONS]
        stepwise.execute(f"DROP TABLE `{stepwise.database}`.`{leftover}`")
        assert recorded(fresh) == recorded(stepwise) == [(m.number, m.name) for m in MIGRATIONS]
        fresh_schema, stepwise_schema = schema(fresh), schema(stepwise)
        assert len(fresh_schema) > 40
        assert fresh_schema.keys() == stepwise_schema.keys()
        for name, ddl in stepwise_schema.items():
            assert fresh_schema[name] == ddl, name
        assert migrate(fresh) == [] and migrate(stepwise) == []  # both know they are up to date
    finally:
        for warehouse in (fresh, stepwise):
            warehouse.execute(f"DROP DATABASE IF EXISTS `{warehouse.database}`")
            warehouse.close()


def test_a_fresh_migration_interrupted_runs_every_step_next_time(clickhouse: ClickHouseServer, tmp_path):
    """Nothing is recorded until a fresh database's last statement ran: the next start finds tables
    and no record, and runs every migration's full steps over them (all of them safe to run again)."""
    warehouse = open_warehouse(Settings(data_dir=tmp_path, warehouse=server_settings(clickhouse)))
    try:
        executed = []
        real_execute = warehouse.execute

        def execute_until_the_views(sql: str, *args, **kwargs):
            if "CREATE VIEW" in sql:
                raise ConnectionError("the server went away")
            executed.append(sql)
            return real_execute(sql, *args, **kwargs)

        warehouse.execute = execute_until_the_views
        try:
            migrate(warehouse)
        except ConnectionError:
            pass
        else:
            raise AssertionError("the interrupted migration finished")
        warehouse.execute = real_execute
        assert any("CREATE TABLE" in sql for sql in executed) and recorded(warehouse) == []
        assert migrate(warehouse) == [m.number for m in MIGRATIONS]
        assert recorded(warehouse) == [(m.number, m.name) for m in MIGRATIONS]
    finally:
        warehouse.execute(f"DROP DATABASE IF EXISTS `{warehouse.database}`")
        warehouse.close()
