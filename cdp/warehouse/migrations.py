"""Versioned warehouse migrations, applied automatically and idempotently.

Each migration is a number and a list of SQL steps built for a database name. Applied numbers are
recorded in ``schema_migrations``; a migration runs once. Add a migration, never edit one that
has shipped.
"""

from collections.abc import Callable

from cdp.warehouse import Warehouse
from projections.tables import PROJECTION_TABLES, TABLES

Migration = tuple[int, str, Callable[[str], list[str]]]

MIGRATIONS: list[Migration] = [
    (1, "events, profiles, identities, customer_merges, lifecycle_transitions", lambda db: [t.create_sql(db) for t in TABLES]),
    (2, "projection tables: identity refusals, traits, tags, tag changes, value, satisfaction, survey answers, tickets, service, churn risk, loyalty", lambda db: [t.create_sql(db) for t in PROJECTION_TABLES]),
]


def migrate(warehouse: Warehouse) -> list[int]:
    """Applies pending migrations in order; returns the numbers applied."""
    db = warehouse.database
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS `{db}`.`schema_migrations` (number UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree ORDER BY number"
    )
    done = {row["number"] for row in warehouse.query(f"SELECT number FROM `{db}`.`schema_migrations` FINAL")}
    applied = []
    for number, name, steps in MIGRATIONS:
        if number in done:
            continue
        for sql in steps(db):
            warehouse.execute(sql)
        warehouse.insert("schema_migrations", [{"number": number, "name": name}])
        applied.append(number)
    return applied
