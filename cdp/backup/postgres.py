"""The PostgreSQL event store: ``pg_dump`` of one exported snapshot, and ``pg_restore``.

The backup opens a repeatable-read transaction, exports its snapshot, reads the last notification
id in it and has ``pg_dump --snapshot`` dump exactly that state, so the manifest's last position
is the dump's. The event store appends under ``LOCK TABLE ... IN EXCLUSIVE MODE``, so notification
ids commit in order and the snapshot holds every event up to that position and none after it.
The password reaches the tools through ``PGPASSWORD``, never the command line.
"""

import glob
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from cdp.config import PostgresSettings
from cdp.errors import CdpError

EVENTS_TABLE = "stored_events"  # eventsourcing's application recorder table
INSTALL_HINT = "install PostgreSQL's client tools: `apt-get install -y postgresql-client` (Debian's `postgresql` package has them too)"


def dump(pg: PostgresSettings, target: Path) -> int:
    """Dumps the event store database into ``target``; returns the last position in the dump."""
    pg_dump = _binary("pg_dump")
    with _connect(pg) as db:
        db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        db.read_only = True
        snapshot = db.execute("SELECT pg_export_snapshot()").fetchone()[0]
        if db.execute("SELECT to_regclass(%s)", (EVENTS_TABLE,)).fetchone()[0] is None:
            raise CdpError(f"the PostgreSQL event store {pg.dbname} on {pg.host}:{pg.port} has no {EVENTS_TABLE} table: nothing to back up")
        last = db.execute(sql.SQL("SELECT COALESCE(MAX(notification_id), 0) FROM {}").format(sql.Identifier(EVENTS_TABLE))).fetchone()[0]
        _run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", *_target_args(pg), f"--file={target}"], pg, "pg_dump")
    return last


def stored_events(pg: PostgresSettings) -> int:
    """How many events the database holds (0 when it has no event store yet)."""
    with _connect(pg) as db:
        if db.execute("SELECT to_regclass(%s)", (EVENTS_TABLE,)).fetchone()[0] is None:
            return 0
        return db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(EVENTS_TABLE))).fetchone()[0]


def restore(pg: PostgresSettings, source: Path, replace: bool) -> None:
    """Restores a dump; ``replace`` drops the objects the dump holds before recreating them."""
    pg_restore = _binary("pg_restore")
    clean = ["--clean", "--if-exists"] if replace else []
    _run([pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", *clean, *_target_args(pg), str(source)], pg, "pg_restore")
    with _connect(pg) as db:  # a sequence is dumped as it is at dump time, not as of the snapshot: continue after the last event
        db.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), COALESCE(MAX(notification_id), 1), MAX(notification_id) IS NOT NULL) FROM {}").format(
                sql.Identifier(EVENTS_TABLE)
            ),
            (EVENTS_TABLE,),
        )


def check_tools() -> None:
    _binary("pg_dump")
    _binary("pg_restore")


def _connect(pg: PostgresSettings) -> psycopg.Connection:
    try:
        return psycopg.connect(host=pg.host, port=pg.port, dbname=pg.dbname, user=pg.user, password=pg.password.get_secret_value(), connect_timeout=10)
    except psycopg.OperationalError as error:
        raise CdpError(f"cannot reach the PostgreSQL event store {pg.dbname} on {pg.host}:{pg.port}: {str(error).strip()}") from None


def _target_args(pg: PostgresSettings) -> list[str]:
    return [f"--host={pg.host}", f"--port={pg.port}", f"--username={pg.user}", f"--dbname={pg.dbname}", "--no-password"]


def _run(args: list[str], pg: PostgresSettings, tool: str) -> None:
    env = os.environ | {"PGPASSWORD": pg.password.get_secret_value()}
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CdpError(f"{tool} failed on {pg.dbname} at {pg.host}:{pg.port}: {done.stderr.strip()}")


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise CdpError(f"{name} is missing: {INSTALL_HINT}")
    return found
