"""The key store: one AES-256-GCM data key per subject, wrapped with the master key (``DATA_DIR/keys.sqlite``).

Tables:
- ``data_keys``: key id → the data key, encrypted with a key-encryption key derived from the
  master key (AES-GCM, the key id as associated data). A key id is 32 hex digits: the creation time
  in milliseconds, then 80 random bits (``_new_key_id``), so new keys are added at the end of the
  key id indexes rather than on random pages of them.
- ``subjects``: blind index → key id. The blind index is HMAC-SHA256 of an identifier key such as
  ``email:alice@example.com`` under a second secret derived from the master key, so the store holds
  no identifier in plaintext, yet the same identifier always finds the same key.
- ``shredded``: key id → erasure token, for keys deleted by forgetting. Data sealed with such a key
  opens as "erased" under that token; the key id tells when the key was made (as its events' own
  times do) and nothing of whose it was.
- ``erasures``: the receipts of forgetting (no identifiers in them).
- ``index_secret``: the blind index's secret, wrapped like a data key, once the master key was
  rotated (``rewrap``): until then it is derived from the master key. Blind indexes cannot be
  recomputed (the store holds no identifier), so a new master key keeps the first one's secret.
- ``shred_generation``: one counter, raised by every shredding. Each key store remembers the keys
  of the subjects it served last (most events come from people seen minutes before) and forgets
  them all when the counter moved, so a key shredded by another process (``cdp forget`` beside
  ``cdp serve``, another collector worker) is never handed out again from memory.

Data keys are handed out as ready ``AESGCM`` ciphers, so a remembered subject's cipher is built
once, not once per event (building one costs about as much as encrypting an event's secrets).

Deleted rows are overwritten (``secure_delete``) and the WAL is truncated after forgetting, so a
deleted key leaves no copy in the file.
"""

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cdp.config import Settings
from cdp.sqlite_batches import chunks, select_in
from cdp.errors import CdpError
from cdp.sqlite_store import open_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (key_id TEXT PRIMARY KEY, wrapped BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subjects (blind TEXT PRIMARY KEY, key_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subjects_key ON subjects (key_id);
CREATE TABLE IF NOT EXISTS shredded (key_id TEXT PRIMARY KEY, token TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erasures (token TEXT PRIMARY KEY, at TEXT NOT NULL, receipt BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shred_generation (n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS index_secret (wrapped BLOB NOT NULL);
INSERT INTO shred_generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM shred_generation);
"""
_REMEMBERED_SUBJECTS = 100_000  # ~250 bytes each in memory
_NONCE = 12
_INDEX_SECRET = "index secret"  # the associated data its wrapping is bound to


@dataclass(frozen=True)
class Shredded:
    """A key deleted by forgetting: what it sealed opens as erased, under this token."""

    token: str


def master_key(settings: Settings) -> bytes:
    """The configured master key, or the data directory's own (created on first use, mode 0600)."""
    if settings.privacy.master_key is not None:
        return settings.privacy.master_key.get_secret_value().encode()
    path = settings.master_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n")
    return path.read_bytes().strip()


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cdp " + purpose).derive(master)


class KeyStore:
    def __init__(self, path: Path, master: bytes):
        self._wrap = AESGCM(_derive(master, b"key wrapping"))
        self._db = open_store(path, _SCHEMA, secure_delete=True)
        stored = self._db.execute("SELECT wrapped FROM index_secret").fetchone()
        self._index_secret = self._unwrapped_bytes(_INDEX_SECRET, stored[0]) if stored else _derive(master, b"blind index")
        self._lock = threading.Lock()  # the collector's writer and the runner share the connection
        self._remembered: OrderedDict[str, tuple[str, AESGCM]] = OrderedDict()  # subject → key, least recently used first
        self._remembered_generation = -1

    def blind(self, subject: str) -> str:
        """The blind index of an identifier key (``type:value``)."""
        return hmac.new(self._index_secret, subject.encode(), hashlib.sha256).hexdigest()

    def keys_for(self, subjects: Iterable[str]) -> dict[str, tuple[str, AESGCM]]:
        """Subject → ``(key id, data key)``, creating the keys of subjects seen for the first time."""
        with self._lock:
            return self._keys_for(subjects)

    def _keys_for(self, subjects: Iterable[str]) -> dict[str, tuple[str, AESGCM]]:
        wanted = set(subjects)
        if wanted:
            self._forget_remembered_if_shredded()
        keys = {subject: self._remembered[subject] for subject in wanted if subject in self._remembered}
        for subject in keys:
            self._remembered.move_to_end(subject)
        looked_up = self._look_up(wanted - keys.keys())
        self._remembered.update(looked_up)
        while len(self._remembered) > _REMEMBERED_SUBJECTS:
            self._remembered.popitem(last=False)
        return keys | looked_up

    def _forget_remembered_if_shredded(self) -> None:
        (generation,) = self._db.execute("SELECT n FROM shred_generation").fetchone()
        if generation != self._remembered_generation:
            self._remembered.clear()
            self._remembered_generation = generation

    def _look_up(self, subjects: set[str]) -> dict[str, tuple[str, AESGCM]]:
        blinds = {subject: self.blind(subject) for subject in subjects}
        found = self._subject_keys(blinds.values())
        missing = [b for b in set(blinds.values()) if b not in found]
        if missing:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found.update(self._subject_keys(missing))  # made meanwhile by another writer
                fresh = {b: self._new_key() for b in missing if b not in found}
                self._db.executemany("INSERT INTO data_keys (key_id, wrapped) VALUES (?, ?)", [(kid, self._wrapped(kid, key)) for kid, key in fresh.values()])
                self._db.executemany("INSERT INTO subjects (blind, key_id) VALUES (?, ?)", [(b, kid) for b, (kid, _) in fresh.items()])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            found.update({b: (kid, AESGCM(key)) for b, (kid, key) in fresh.items()})
        return {subject: found[b] for subject, b in blinds.items()}

    def new_keys(self, count: int) -> list[tuple[str, AESGCM]]:
        """Keys that belong to no subject (dead letters, events without a usable identifier)."""
        with self._lock:
            return self._new_keys(count)

    def _new_keys(self, count: int) -> list[tuple[str, AESGCM]]:
        if not count:
            return []  # no empty transaction (each commit is an fsync)
        keys = [self._new_key() for _ in range(count)]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO data_keys (key_id, wrapped) VALUES (?, ?)", [(kid, self._wrapped(kid, key)) for kid, key in keys])
        return [(kid, AESGCM(key)) for kid, key in keys]

    def open_keys(self, key_ids: Iterable[str]) -> dict[str, AESGCM | Shredded]:
        """Key id → data key, or ``Shredded`` for a key deleted by forgetting."""
        with self._lock:
            return self._open_keys(key_ids)

    def _open_keys(self, key_ids: Iterable[str]) -> dict[str, AESGCM | Shredded]:
        ids = sorted(set(key_ids))
        found: dict[str, AESGCM | Shredded] = {kid: self._unwrapped(kid, wrapped) for kid, wrapped in select_in(self._db, "SELECT key_id, wrapped FROM data_keys WHERE key_id IN ({})", ids)}
        found.update({kid: Shredded(token) for kid, token in select_in(self._db, "SELECT key_id, token FROM shredded WHERE key_id IN ({})", [i for i in ids if i not in found])})
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise CdpError(f"the key store has no key {unknown[0]} (and {len(unknown) - 1} more): was keys.sqlite replaced or the master key changed?")
        return found

    def subject_key_ids(self, subjects: Iterable[str]) -> list[str]:
        """The key ids of these identifier keys (none are created)."""
        return sorted({kid for kid, _ in self._subject_keys([self.blind(s) for s in subjects]).values()})

    def shred(self, key_ids: Iterable[str], token: str) -> int:
        """Deletes these keys (and their blind indexes); returns how many were deleted."""
        with self._lock:
            return self._shred(key_ids, token)

    def _shred(self, key_ids: Iterable[str], token: str) -> int:
        ids = sorted(set(key_ids))
        self._db.execute("BEGIN IMMEDIATE")
        try:
            deleted = 0
            for chunk in chunks(ids):
                marks = ",".join("?" * len(chunk))
                deleted += self._db.execute(f"DELETE FROM data_keys WHERE key_id IN ({marks})", chunk).rowcount
                self._db.execute(f"DELETE FROM subjects WHERE key_id IN ({marks})", chunk)
            self._db.executemany("INSERT OR REPLACE INTO shredded (key_id, token) VALUES (?, ?)", [(kid, token) for kid in ids])
            self._db.execute("UPDATE shred_generation SET n = n + 1")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self.checkpoint()
        return deleted

    def record_erasure(self, token: str, at: str, receipt: dict) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO erasures (token, at, receipt) VALUES (?, ?, ?)", (token, at, orjson.dumps(receipt)))

    def rewrap(self, new_master: bytes) -> int:
        """Wraps every data key, and the blind index's secret, with ``new_master`` instead, in one
        transaction; returns how many data keys. Every other process must be stopped: one still
        running would wrap new keys with the old master key."""
        with self._lock:
            new_wrap = AESGCM(_derive(new_master, b"key wrapping"))
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute("SELECT key_id, wrapped FROM data_keys").fetchall()
                rewrapped = [(_wrapped_with(new_wrap, kid, self._unwrapped_bytes(kid, wrapped)), kid) for kid, wrapped in rows]
                self._db.executemany("UPDATE data_keys SET wrapped = ? WHERE key_id = ?", rewrapped)
                self._db.execute("DELETE FROM index_secret")
                self._db.execute("INSERT INTO index_secret (wrapped) VALUES (?)", (_wrapped_with(new_wrap, _INDEX_SECRET, self._index_secret),))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._wrap = new_wrap
            self._remembered.clear()
        self.checkpoint()  # no page wrapped with the old master key left in the WAL
        return len(rewrapped)

    def checkpoint(self) -> None:
        """Moves the WAL into the database file and empties it, so deleted pages leave no copy there."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()

    def _subject_keys(self, blinds: Iterable[str]) -> dict[str, tuple[str, AESGCM]]:
        rows = select_in(self._db, "SELECT s.blind, s.key_id, k.wrapped FROM subjects s JOIN data_keys k USING (key_id) WHERE s.blind IN ({})", sorted(set(blinds)))
        return {blind: (kid, self._unwrapped(kid, wrapped)) for blind, kid, wrapped in rows}

    def _new_key(self) -> tuple[str, bytes]:
        return _new_key_id(), AESGCM.generate_key(bit_length=256)

    def _wrapped(self, key_id: str, key: bytes) -> bytes:
        return _wrapped_with(self._wrap, key_id, key)

    def _unwrapped(self, key_id: str, wrapped: bytes) -> AESGCM:
        return AESGCM(self._unwrapped_bytes(key_id, wrapped))

    def _unwrapped_bytes(self, key_id: str, wrapped: bytes) -> bytes:
        return _unwrapped_with(self._wrap, key_id, wrapped)


def _new_key_id() -> str:
    """The creation time in milliseconds (12 hex digits), then 80 random bits (20). Random ids put
    every new key, and its subject's entry in the ``subjects_key`` index, on a random page of a
    B-tree larger than the cache: with 1.2-1.4M subjects held, ``keys_for`` took 151 µs of CPU per
    new subject (its look-ups of known ones included), 96 µs with ids in time order
    (``benchmarks.keystore_insert``; BENCHMARKS.md, "the key store's ids in time order")."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def _wrapped_with(wrap: AESGCM, key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + wrap.encrypt(nonce, key, key_id.encode())


def _unwrapped_with(wrap: AESGCM, key_id: str, wrapped: bytes) -> bytes:
    try:
        return wrap.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], key_id.encode())
    except Exception:  # InvalidTag: never echo key material
        raise CdpError(
            f"cannot unwrap data key {key_id}: the master key differs from the one that wrapped it (after an interrupted `cdp master-key rotate`, run it again)"
        ) from None



def unwraps(path: Path, master: bytes) -> bool:
    """Whether ``master`` opens the key store at ``path`` (a data key and the stored index secret;
    true of a store holding neither), without changing it."""
    wrap = AESGCM(_derive(master, b"key wrapping"))
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        samples = db.execute("SELECT key_id, wrapped FROM data_keys LIMIT 1").fetchall()
        samples += [(_INDEX_SECRET, wrapped) for (wrapped,) in db.execute("SELECT wrapped FROM index_secret")]
    finally:
        db.close()
    try:
        for key_id, wrapped in samples:
            _unwrapped_with(wrap, key_id, wrapped)
    except CdpError:
        return False
    return True


def rotate_master_key(settings: Settings, new: bytes | None) -> int:
    """Wraps the key store's keys with a new master key; returns how many data keys (0: an
    interrupted rotation finished). Every other cdp process must be stopped.

    A configured master key (``privacy.master_key``, from a secret store) needs ``new``: configure it
    everywhere afterwards. The data directory's own key (``master.key``) is replaced by ``new``, or a
    generated one: written to ``master.key.new`` first, renamed over ``master.key`` once the store is
    rewrapped, so running it again after an interruption finishes that rotation."""
    path = settings.key_store_path
    old = master_key(settings)
    if settings.privacy.master_key is not None:
        if new is None:
            raise CdpError("the master key is configured (privacy.master_key): give the new one in CDP_NEW_MASTER_KEY, then configure it in its place")
        if not unwraps(path, old) and unwraps(path, new):
            return 0  # rewrapped already: only the configuration is left to change
        return _rewrapped(path, old, new)
    own, pending = settings.master_key_path, settings.master_key_path.with_name(settings.master_key_path.name + ".new")
    if pending.exists():
        if unwraps(path, pending.read_bytes().strip()) and not unwraps(path, old):
            os.replace(pending, own)
            return 0
        pending.unlink()
    new = new or base64.urlsafe_b64encode(secrets.token_bytes(32))
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(new + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    rewrapped = _rewrapped(path, old, new)
    os.replace(pending, own)
    return rewrapped


def _rewrapped(path: Path, old: bytes, new: bytes) -> int:
    store = KeyStore(path, old)
    try:
        return store.rewrap(new)
    finally:
        store.close()
