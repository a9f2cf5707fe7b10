"""Processes opening one store file at once add its later columns once (``add_missing_columns``):
the collector's workers starting together on a fresh data directory both added the dead-letter
store's ``key_id`` column and one died of "duplicate column name" (seen in CI)."""

import multiprocessing
import sqlite3
import time
from pathlib import Path

from cdp.sqlite_store import add_missing_columns, open_store

TABLE = "CREATE TABLE IF NOT EXISTS letters (id INTEGER PRIMARY KEY, body TEXT)"
LATER = {"replayed_at": "TEXT", "key_id": "TEXT"}


def _open_at(path: Path, at: float) -> str:
    time.sleep(max(0.0, at - time.time()))  # every process opens at the same moment
    try:
        add_missing_columns(open_store(path, TABLE), "letters", LATER)
    except sqlite3.Error as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


def test_processes_opening_a_file_at_once_add_each_column_once(tmp_path: Path):
    for round_ in range(5):
        path = tmp_path / f"store-{round_}.sqlite"
        open_store(path, TABLE).close()  # a file of the earlier version (its table without the later columns)
        with multiprocessing.get_context("spawn").Pool(6) as pool:
            outcomes = pool.starmap(_open_at, [(path, time.time() + 1.5)] * 6)
        assert outcomes == ["ok"] * 6
        columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(letters)")]
        assert columns == ["id", "body", "replayed_at", "key_id"]


def test_a_file_with_the_columns_is_left_as_it_is(tmp_path: Path):
    db = open_store(tmp_path / "s.sqlite", TABLE)
    add_missing_columns(db, "letters", LATER)
    db.execute("INSERT INTO letters (body, key_id) VALUES ('x', 'k')")
    add_missing_columns(db, "letters", LATER)
    assert db.execute("SELECT body, replayed_at, key_id FROM letters").fetchall() == [("x", None, "k")]
