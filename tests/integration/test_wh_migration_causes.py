"""Warehouse migration 31 on a warehouse made before it: lifecycle_transitions and churn_risk gain
the cause codes and parameters, rows written before read empty codes (the console then shows their
stored English text), and their _current views show the new columns."""

from datetime import UTC, datetime

from cdp.warehouse.migrations import MIGRATIONS
from cdp.warehouse.views import current
from projections.tables import churn_risk, lifecycle_transitions
from projections.tables.table import Table

NEW = {lifecycle_transitions.TABLE.name: ("cause_code", "cause_params"), churn_risk.TABLE.name: ("reason_codes", "reason_params")}
BEFORE = {
    lifecycle_transitions.TABLE.name: {"customer_id": "c1", "at": datetime(2025, 1, 2, 10, tzinfo=UTC), "from_stage": "", "to_stage": "new", "cause": "first purchase", "version": 1, "is_deleted": 0},
    churn_risk.TABLE.name: {"customer_id": "c1", "score": 25, "level": "low", "reasons": ["detractor (NPS 3) (+25)"], "version": 1, "is_deleted": 0},
}


def columns(warehouse, table: str) -> list[tuple[str, str]]:
    rows = warehouse.query("SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position",
                           {"db": warehouse.database, "t": table})
    return [(r["name"], r["type"]) for r in rows]


def migrate_tables_made_before(w, number: int, tables: tuple[Table, ...], new: dict[str, tuple[str, ...]], rows: dict[str, dict]) -> None:
    """Makes each of ``tables`` (and its _current view) as it was before migration ``number``,
    without its ``new`` columns, with its row of ``rows``; then runs the migration twice (a
    migration interrupted part-way runs again in full)."""
    for table in tables:
        before = Table(table.name, table.doc, tuple(c for c in table.columns if c.name not in new[table.name]), table.engine, table.order_by)
        w.execute(f"DROP VIEW IF EXISTS `{w.database}`.`{current.name(table)}`")
        w.execute(f"DROP TABLE `{w.database}`.`{table.name}`")
        w.execute(before.create_sql(w.database))
        w.execute(current.create_sql(w.database, before))
        w.insert(table.name, [rows[table.name]])
    (steps,) = [m.steps for m in MIGRATIONS if m.number == number]
    for _ in range(2):
        for sql in steps(w.database):
            w.execute(sql)



def assert_columns_as_declared(w, tables: tuple[Table, ...]) -> None:
    """Each table has the columns its module declares, and its _current view the same but the bookkeeping ones."""
    for table in tables:
        assert columns(w, table.name) == [(c.name, c.type) for c in table.columns]
        assert [name for name, _ in columns(w, current.name(table))] == [c for c in table.column_names if c not in current.BOOKKEEPING]

def test_migration_31_adds_the_cause_codes_to_tables_made_before_it(any_warehouse):
    w = any_warehouse
    tables = (lifecycle_transitions.TABLE, churn_risk.TABLE)
    migrate_tables_made_before(w, 31, tables, NEW, BEFORE)
    assert_columns_as_declared(w, tables)
    assert w.query(f"SELECT cause, cause_code, cause_params FROM `{w.database}`.`{current.name(lifecycle_transitions.TABLE)}`") == [
        {"cause": "first purchase", "cause_code": "", "cause_params": ""}]
    assert w.query(f"SELECT reasons, reason_codes, reason_params FROM `{w.database}`.`{current.name(churn_risk.TABLE)}`") == [
        {"reasons": ["detractor (NPS 3) (+25)"], "reason_codes": [], "reason_params": []}]
