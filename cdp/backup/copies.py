"""Copying one store's file: SQLite through its online backup API, anything else byte for byte."""

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

_CHUNK = 1024 * 1024


def copy_sqlite(source: Path, target: Path) -> None:
    """Copies a live SQLite database as one consistent snapshot into a self-contained file.

    The whole copy is one step of ``sqlite3.Connection.backup``: one read transaction, so the copy
    holds exactly the transactions committed when it began. The stores run in WAL mode, where a
    reader blocks no writer, so the collector keeps appending while the copy is made.
    """
    db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)  # never creates a missing file
    try:
        copy = sqlite3.connect(target)
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            copy.close()
    finally:
        db.close()


def copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def place(source: Path, target: Path) -> None:
    """Puts a backed-up file at ``target`` atomically, dropping SQLite journals left from an older file there."""
    partial = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, partial)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(partial, target)


def sync_directory(directory: Path) -> None:
    """Flushes every file of ``directory`` and the directory itself to disk."""
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
