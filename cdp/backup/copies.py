"""Copying one store's file: SQLite through its online backup API, anything else byte for byte."""

import hashlib
import os
import shutil
import sqlite3
import stat
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
    """Copies the bytes and the permission bits: ``master.key`` stays 0600 in the backup and once
    restored (``shutil.copyfile`` made it 0644). No more than 0600 while it is written."""
    with source.open("rb") as reader, open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as writer:
        shutil.copyfileobj(reader, writer, _CHUNK)
        writer.flush()
        os.fchmod(writer.fileno(), stat.S_IMODE(os.fstat(reader.fileno()).st_mode))
        os.fsync(writer.fileno())


def place(source: Path, target: Path) -> None:
    """Puts a backed-up file at ``target`` atomically, dropping SQLite journals left from an older file there."""
    partial = target.with_name(f".{target.name}.restoring")
    copy_file(source, partial)
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
