"""Versioned warehouse migrations, applied automatically and idempotently.

Each migration is a number and a list of SQL steps built for a database name. Applied numbers are
recorded in ``schema_migrations``; a migration runs once. Add a migration, never edit one that
has shipped. Every step is safe to run again (IF NOT EXISTS, idempotent backfills), so a
migration interrupted part-way simply runs again in full.

A database with nothing in it yet skips what only brings an older database up to date: its tables
are created with every column and setting a later migration adds (``Table.create_sql`` is the table
as it is now), so such a migration's ``fresh`` steps are fewer or none, and the numbers applied are
recorded in one insert at the end (each insert costs the server about as much as a small table's
DDL). Interrupted, that leaves nothing recorded, and the next start runs every migration's full
steps over what was created. tests/integration/test_wh_fresh_schema.py checks that both ways end
in the same schema.

Processes sharing a data directory (the embedded default's processes; on the compose deployment
the collector, the relay and the workers, whose ``/data`` is one volume) migrate one at a time:
``migrate`` holds an ``flock`` on ``migrations.lock`` there, so two first starts never run a
rollup's backfill ``INSERT ... SELECT`` together (it would count twice). The kernel releases it
when a process dies, so it is never left stale. Processes on other hosts do not share it:
docs/operations.md says to start the relay first there.
"""

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cdp.process_lock import ProcessLock
from cdp.warehouse import Warehouse
from cdp.warehouse.statements import quote_string
from cdp.recommendations import product_pairs_sql
from cdp.warehouse.views import churn_warnings, current, customer_days, customer_products, daily_events, daily_sales, product_pairs, survivors
from projections.tables import (
    CHURN_HISTORY_TABLES, CONSENT_TABLES, PREDICTION_TABLES, PROJECTION_TABLES, TABLES, churn_level_changes, churn_risk, customer_loyalty, customer_merges, customer_predictions, events, lifecycle_transitions, survey_answers,
)
from projections.tables.table import DEDUPLICATION_WINDOW, Table

# a current-state table's parts all older than this are merged into one (even with no merge due): FINAL on a
# merged table skips the replacing merge, which was most of a segment count on 1M+ profiles
FORCE_MERGE_AFTER_SECONDS = 600

Steps = Callable[[str], list[str]]


class Migration(NamedTuple):
    number: int
    name: str
    steps: Steps  # for a database created before it
    fresh: Steps | None = None  # for a database with nothing in it yet, if fewer than ``steps``


def _none(db: str) -> list[str]:
    """A migration a fresh database does not need: its tables are created as they are now."""
    return []


def _customer_index(db: str) -> list[str]:
    return [
        f"ALTER TABLE `{db}`.`{events.TABLE.name}` ADD INDEX IF NOT EXISTS customer_id_bloom customer_id TYPE bloom_filter GRANULARITY 4",
        f"ALTER TABLE `{db}`.`{events.TABLE.name}` MATERIALIZE INDEX customer_id_bloom",
    ]


MIGRATIONS: list[Migration] = [
    Migration(1, "events, profiles, identities, customer_merges, lifecycle_transitions", lambda db: [t.create_sql(db) for t in TABLES]),
    Migration(2, "projection tables: identity refusals, traits, tags, tag changes, value, satisfaction, survey answers, tickets, service, churn risk, loyalty", lambda db: [t.create_sql(db) for t in PROJECTION_TABLES]),
    Migration(10, "insert deduplication window on every table; per-customer index on events", lambda db: [
        *(f"ALTER TABLE `{db}`.`{t.name}` MODIFY SETTING non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}" for t in (*TABLES, *PROJECTION_TABLES)),
        *_customer_index(db),
    ], fresh=_customer_index),  # tables created since carry the window in their DDL
    Migration(11, "BI views: <table>_current for every versioned table; daily_events and daily_sales rollups", lambda db: [
        *(current.create_sql(db, t) for t in (*TABLES, *PROJECTION_TABLES)),
        *daily_events.ROLLUP.create_sql(db),
        *daily_sales.ROLLUP.create_sql(db),
    ]),
    Migration(12, "customer_days rollup: the days each customer was active (retention reads it instead of every event)", lambda db: customer_days.ROLLUP.create_sql(db)),
    Migration(13, "current-state tables (one row per customer) merged into one part once their parts are 10 minutes old", lambda db: [
        f"ALTER TABLE `{db}`.`{t.name}` MODIFY SETTING min_age_to_force_merge_seconds = {FORCE_MERGE_AFTER_SECONDS}"
        for t in (*TABLES, *PROJECTION_TABLES) if t.order_by == "customer_id"
    ]),
    Migration(20, "consent: customer_consent, consent_changes (history intervals), suppressions (with the insert deduplication window) and their _current views", lambda db: [
        *(t.create_sql(db) for t in CONSENT_TABLES),
        *(current.create_sql(db, t) for t in CONSENT_TABLES),
    ]),
    Migration(21, "customer_survivors: customer_merges as an in-memory join table (absorbed → survivor), kept by a materialized view", survivors.create_sql),
    Migration(25, "predictions: customer_predictions (BG/NBD + Gamma-Gamma, written by `cdp value fit`), value_models and customer_predictions_current", lambda db: [
        *(t.create_sql(db) for t in PREDICTION_TABLES),
        current.create_sql(db, customer_predictions.TABLE),
    ]),
    Migration(26, "survey_answers.topics: what each free text is about (delivery, price, quality, ...); survey_answers_current shows it", lambda db: added_columns(db, survey_answers.TABLE, ("topics",)), fresh=_none),
    Migration(27, "customer_products rollup: the products each customer bought or viewed (recommendations read it instead of every event)", lambda db: customer_products.ROLLUP.create_sql(db)),
    Migration(28, "loyalty redemption: customer_loyalty gains lifetime_points, points_redeemed, redemptions and overdrawn", lambda db: added_columns(
        db, customer_loyalty.TABLE, ("lifetime_points", "points_redeemed", "redemptions", "overdrawn"), redocumented=("points",)), fresh=_none),
    Migration(29, "churn warnings: churn_level_changes (every churn-risk level change in event time), its _current view, and churn_warnings", lambda db: [
        *(t.create_sql(db) for t in CHURN_HISTORY_TABLES),
        *(current.create_sql(db, t) for t in CHURN_HISTORY_TABLES),
        churn_warnings.create_sql(db),
    ]),
    Migration(30, "events by customer: a projection of events ordered by (customer_id, position), kept by the server on every insert and merge", lambda db: [
        # ReplacingMergeTree refuses a projection unless told what a merge does to it: rebuild it from the merged rows
        f"ALTER TABLE `{db}`.`{events.TABLE.name}` MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild'",
        f"ALTER TABLE `{db}`.`{events.TABLE.name}` ADD PROJECTION IF NOT EXISTS {events.BY_CUSTOMER} (SELECT * ORDER BY customer_id, position)",
        f"ALTER TABLE `{db}`.`{events.TABLE.name}` MATERIALIZE PROJECTION {events.BY_CUSTOMER}",
    ]),
    Migration(31, "causes as codes: lifecycle_transitions gains cause_code, cause_params; churn_risk gains reason_codes, reason_params (the console words them per language)", lambda db: [
        *added_columns(db, lifecycle_transitions.TABLE, ("cause_code", "cause_params")),
        *added_columns(db, churn_risk.TABLE, ("reason_codes", "reason_params")),
    ], fresh=_none),
    Migration(32, "product_pairs: customers per pair of products, recomputed every minute by a refreshable view (one customer's recommendations read it)",
     lambda db: product_pairs.create_sql(db, product_pairs_sql(db))),
    Migration(33, "causes as codes: churn_level_changes gains reason_params; customer_merges gains reason_code, reason_params (the console words them per language)", lambda db: [
        *added_columns(db, churn_level_changes.TABLE, ("reason_params",)),
        *added_columns(db, customer_merges.TABLE, ("reason_code", "reason_params")),
    ], fresh=_none),
]


def added_columns(db: str, table: Table, names: tuple[str, ...], redocumented: tuple[str, ...] = ()) -> list[str]:
    """Adds ``names`` (columns of ``table``, each after the column before it), sets the comments of the
    table and of the ``redocumented`` columns again, and rebuilds the table's ``_current`` view to show them."""
    columns = table.columns
    view = f"`{db}`.`{current.name(table)}`"
    return [
        *(f"ALTER TABLE `{db}`.`{table.name}` ADD COLUMN IF NOT EXISTS `{c.name}` {c.type} COMMENT {quote_string(c.doc)} AFTER `{columns[i - 1].name}`"
          for i, c in enumerate(columns) if c.name in names),
        *(f"ALTER TABLE `{db}`.`{table.name}` COMMENT COLUMN `{c.name}` {quote_string(c.doc)}" for c in columns if c.name in redocumented),
        f"ALTER TABLE `{db}`.`{table.name}` MODIFY COMMENT {quote_string(table.doc)}",
        f"DROP VIEW IF EXISTS {view}",
        current.create_sql(db, table),
    ]


LOCK_FILE = "migrations.lock"


def migrate(warehouse: Warehouse, data_dir: Path | None = None) -> list[int]:
    """Applies pending migrations in order, holding ``data_dir``'s migrations lock if given (every
    process of a deployment passes it; a test migrating a database of its own needs none); returns
    the numbers applied."""
    if data_dir is None:
        return _migrate(warehouse)
    with ProcessLock(data_dir / LOCK_FILE):
        return _migrate(warehouse)


def _migrate(warehouse: Warehouse) -> list[int]:
    db = warehouse.database
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS `{db}`.`schema_migrations` (number UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree ORDER BY number"
    )
    done = {row["number"] for row in warehouse.query(f"SELECT number FROM `{db}`.`schema_migrations` FINAL")}
    fresh = not done and _empty(warehouse)
    applied = []
    for migration in MIGRATIONS:
        if migration.number in done:
            continue
        for sql in (migration.fresh or migration.steps)(db) if fresh else migration.steps(db):
            warehouse.execute(sql)
        if not fresh:
            warehouse.insert("schema_migrations", [_record(migration)])
        applied.append(migration)
    if fresh:
        warehouse.insert("schema_migrations", [_record(migration) for migration in applied])
    return [migration.number for migration in applied]


def _empty(warehouse: Warehouse) -> bool:
    """No table in the database but the migrations' record."""
    tables = warehouse.query("SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name != 'schema_migrations'", {"db": warehouse.database})
    return tables[0]["n"] == 0


def _record(migration: Migration) -> dict:
    return {"number": migration.number, "name": migration.name}
