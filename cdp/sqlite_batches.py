"""Queries over many values in one SQLite statement per chunk (SQLite caps bound parameters)."""

import sqlite3
from collections.abc import Iterator, Sequence

CHUNK = 900  # under SQLite's default limit of 999 bound parameters


def chunks(values: Sequence) -> Iterator[Sequence]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def select_in(db: sqlite3.Connection, sql: str, values: Sequence) -> list[tuple]:
    """Runs ``sql`` (with one ``IN ({})`` placeholder) once per chunk of ``values``; all rows."""
    rows: list[tuple] = []
    for chunk in chunks(values):
        rows.extend(db.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall())
    return rows
