"""Dead letters are stored sealed, with a key per letter; letters kept before sealing are sealed on open."""

import sqlite3
from pathlib import Path

from cdp.deadletters import ERASED_REASON, DeadLetterStore
from cdp.privacy.keystore import KeyStore
from ingestion.deadletter import DeadLetter

SECRET = b'{"identifiers": {"email": "ann@example.com"}, "properties": {"amount": -5}}'


def file_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.glob("deadletters.sqlite*"))


def test_letters_are_sealed_readable_and_shreddable(tmp_path: Path):
    keys = KeyStore(tmp_path / "keys.sqlite", b"m" * 32)
    store = DeadLetterStore(tmp_path / "deadletters.sqlite", keys)
    store.add([DeadLetter("web", "a.jsonl:1", "properties.amount: ann@example.com is not a number", SECRET), DeadLetter("web", "a.jsonl:2", "malformed JSON", b"{oops")])
    assert b"ann@example.com" not in file_bytes(tmp_path)
    first, second = store.get(1), store.get(2)
    assert (first.reason, first.payload) == ("properties.amount: ann@example.com is not a number", SECRET)
    assert second.payload == b"{oops"

    mentioning = store.keys_mentioning(["ANN@example.com"])
    assert len(mentioning) == 1
    keys.shred(mentioning, "t" * 32)
    assert (store.get(1).reason, store.get(1).payload) == (ERASED_REASON, b"")
    assert store.get(2).payload == b"{oops"
    assert [letter.id for letter in store.list()] == [2, 1]
    store.close()
    keys.close()


def test_letters_kept_before_sealing_are_sealed_when_the_store_opens(tmp_path: Path):
    old = sqlite3.connect(tmp_path / "deadletters.sqlite")
    old.execute("CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL)")
    old.execute("INSERT INTO dead_letters (received_at, source, origin, reason, payload) VALUES ('2025-01-01T00:00:00+00:00', 'web', 'a.jsonl:1', 'bad', ?)", (SECRET,))
    old.commit()
    old.close()
    keys = KeyStore(tmp_path / "keys.sqlite", b"m" * 32)
    store = DeadLetterStore(tmp_path / "deadletters.sqlite", keys)
    assert store.get(1).payload == SECRET and store.get(1).reason == "bad"
    store.close()
    keys.close()
    assert b"ann@example.com" not in file_bytes(tmp_path)
