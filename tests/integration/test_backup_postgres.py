"""The PostgreSQL event store is backed up with pg_dump of one exported snapshot, taken while a
writer keeps appending, and restored with pg_restore into an empty database."""

import threading
import time
import uuid
from pathlib import Path

import orjson
import psycopg
import pytest

from cdp.backup.erasures import ErasureJournal
from cdp.backup.restore import restore_backup
from cdp.backup.take import take_backup
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.workload import generate_events
from ingestion.jsonl import import_lines
from schemas import parse_envelope


def create_database(postgres, name: str) -> None:
    with psycopg.connect(host=postgres.host, port=postgres.port, dbname="postgres", user=postgres.user, password=postgres.password, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')


def toml(postgres, dbname: str) -> str:
    return (
        '[event_store]\nbackend = "postgres"\n[event_store.postgres]\n'
        f'host = "{postgres.host}"\nport = {postgres.port}\ndbname = "{dbname}"\nuser = "{postgres.user}"\npassword = "{postgres.password}"\n'
    )


def message_ids(platform: Platform) -> list[str]:
    return [orjson.loads(n.state)["message_id"] for n in platform.events.read(0, 1_000_000)]


def test_a_postgres_event_store_backup_holds_exactly_the_events_up_to_its_last_position(postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    source_db, target_db = f"src_{uuid.uuid4().hex[:8]}", f"dst_{uuid.uuid4().hex[:8]}"
    create_database(postgres, source_db)
    create_database(postgres, target_db)
    data = tmp_path / "source"
    data.mkdir()
    (data / "cdp.toml").write_text(toml(postgres, source_db))
    settings = load_settings(data_dir=data)
    events = [orjson.dumps(e) for e in generate_events(10_000, seed=4)]

    with Platform(settings) as platform:
        import_lines(iter(events[:1000]), platform, "first", 500)
        stop = threading.Event()

        def keep_appending() -> None:
            with Platform(settings) as writer:
                for start in range(1000, len(events), 50):
                    if stop.is_set():
                        return
                    import_lines(iter(events[start : start + 50]), writer, "during", 50)

        appender = threading.Thread(target=keep_appending)
        appender.start()
        deadline = time.monotonic() + 60
        while platform.events.last_position() < 1200 and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            manifest = take_backup(settings, tmp_path / "backup")
        finally:
            stop.set()
            appender.join(60)
        everything = message_ids(platform)

    last = manifest.event_store.last_position
    assert manifest.event_store.backend == "postgres"
    assert [f.name for f in manifest.files] == ["cdp.toml", "deadletters.sqlite", "events.pgdump", "keys.sqlite", "master.key"]
    assert 1200 <= last < len(everything), "the backup was taken while the writer appended"

    journal = ErasureJournal(tmp_path / "erasures.jsonl")
    with pytest.raises(CdpError, match=f"the PostgreSQL event store {source_db} .* holds .* events; restore into an empty database, or pass --force"):
        restore_backup(tmp_path / "backup", tmp_path / "refused", journal)
    assert not (tmp_path / "refused").exists()

    monkeypatch.setenv("CDP_EVENT_STORE__POSTGRES__DBNAME", target_db)  # restore into another database
    restored = restore_backup(tmp_path / "backup", tmp_path / "restored", journal)
    assert restored.settings.event_store.postgres.dbname == target_db
    with Platform(restored.settings) as platform:
        assert platform.events.last_position() == last
        assert message_ids(platform) == everything[:last]
        assert platform.append([parse_envelope({**orjson.loads(events[-1]), "message_id": "after-restore"})]) == (1, 0)  # the restored store takes new events after it
        assert platform.events.last_position() == last + 1

    replaced = restore_backup(tmp_path / "backup", tmp_path / "restored", journal, replace=True)  # --force: the appended event goes
    with Platform(replaced.settings) as platform:
        assert message_ids(platform) == everything[:last]
