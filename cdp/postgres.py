"""A connection to the deployment's PostgreSQL database (``event_store.postgres``) for a store that
keeps its tables there, the tables created on first use under an advisory lock, so processes
starting together on several hosts create them once."""

from typing import TYPE_CHECKING

from cdp.config import PostgresSettings

if TYPE_CHECKING:
    import psycopg


def connect(settings: PostgresSettings, schema: str, schema_lock: int) -> "psycopg.Connection":
    """An autocommit connection (a store opens ``transaction()`` where it writes more than one
    statement), after ``schema`` (``CREATE … IF NOT EXISTS`` statements) ran under ``schema_lock``.
    psycopg is imported here, by the stores that use PostgreSQL: the embedded default never loads it."""
    import psycopg

    db = psycopg.connect(
        host=settings.host, port=settings.port, dbname=settings.dbname, user=settings.user, password=settings.password.get_secret_value(), autocommit=True
    )
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (schema_lock,))
        db.execute(schema)
    return db
