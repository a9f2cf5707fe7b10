"""Warehouse migration 28 on a warehouse made before it: customer_loyalty gains the redemption
columns where the table definition has them, and its _current view shows them."""

from cdp.warehouse.migrations import MIGRATIONS
from cdp.warehouse.views import current
from projections.tables import customer_loyalty
from projections.tables.table import Table

NEW = ("lifetime_points", "points_redeemed", "redemptions", "overdrawn")


def columns(warehouse, table: str) -> list[tuple[str, str]]:
    rows = warehouse.query("SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position",
                           {"db": warehouse.database, "t": table})
    return [(r["name"], r["type"]) for r in rows]


def test_migration_28_adds_the_redemption_columns_to_a_table_made_before_it(any_warehouse):
    w, table = any_warehouse, customer_loyalty.TABLE
    before = Table(table.name, table.doc, tuple(c for c in table.columns if c.name not in NEW), table.engine, table.order_by)
    w.execute(f"DROP VIEW IF EXISTS `{w.database}`.`{current.name(table)}`")
    w.execute(f"DROP TABLE `{w.database}`.`{table.name}`")
    w.execute(before.create_sql(w.database))
    w.execute(current.create_sql(w.database, before))
    w.insert(table.name, [{"customer_id": "c1", "points": 5, "points_from_purchases": 5, "points_from_referrals": 0, "points_refunded": 0,
                           "tier": "member", "next_tier": "silver", "to_next_tier": 995.0, "version": 1, "is_deleted": 0}])
    (steps,) = [m.steps for m in MIGRATIONS if m.number == 28]
    for _ in range(2):  # a migration interrupted part-way runs again in full
        for sql in steps(w.database):
            w.execute(sql)
    assert columns(w, table.name) == [(c.name, c.type) for c in table.columns]
    assert [name for name, _ in columns(w, current.name(table))] == [c for c in table.column_names if c not in current.BOOKKEEPING]
    (row,) = w.query(f"SELECT points, lifetime_points, overdrawn FROM `{w.database}`.`{current.name(table)}`")
    assert row == {"points": 5, "lifetime_points": 0, "overdrawn": 0}  # rows written before read 0 until the loyalty projection is rebuilt
