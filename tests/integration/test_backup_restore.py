"""`cdp backup`, `cdp backup verify` and `cdp restore`: what is copied and in which order, and how a
missing, partial or tampered backup or a non-empty target is refused without touching anything."""

import json
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from cdp.backup import stores
from cdp.backup.erasures import ErasureJournal
from cdp.backup.manifest import verify
from cdp.backup.restore import restore_backup
from cdp.backup.take import take_backup
from cdp.config import Settings, load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.workload import generate_events
from ingestion.jsonl import import_lines
from tests.cli import cdp

EVENTS = 300


def ingest(platform: Platform, count: int, seed: int = 3) -> None:
    report = import_lines((orjson.dumps(e) for e in generate_events(count, seed=seed)), platform, "test", 1000)
    assert report.stored == count


@pytest.fixture
def source(settings: Settings) -> Settings:
    """A data directory with every store, including the key store, master key and audit log of issue 9."""
    with Platform(settings) as platform:
        ingest(platform, EVENTS)
        platform.sources.add("web", "website", "segment", None)
        platform.segments  # created empty
        platform.tag_definitions
        platform.dead_letters
        platform.read_keys.create("bi", ["analytics:read"])
        platform.triggers.enable("birthday_greeting", 0, 0)
        platform.audit.record("cli:test", "key.create", "bi", "ok", {})
    data = settings.data_dir
    (data / "cdp.toml").write_text("batch_size = 123\n")
    return load_settings(data_dir=data)


def test_every_store_is_copied_in_the_registry_order_with_the_last_position(source: Settings, tmp_path: Path):
    manifest = take_backup(source, tmp_path / "backup")
    names = [f.name for f in manifest.files]
    assert names == ["cdp.toml", "sources.sqlite", "segments.sqlite", "tag_definitions.sqlite", "read_keys.sqlite", "triggers.sqlite", "deadletters.sqlite", "events.sqlite", "keys.sqlite", "master.key", "audit.sqlite"]
    assert names.index("deadletters.sqlite") < names.index("events.sqlite") < names.index("keys.sqlite") < names.index("master.key")
    assert manifest.event_store.last_position == EVENTS and manifest.event_store.backend == "sqlite"
    assert manifest.started_at <= manifest.created_at
    assert verify(tmp_path / "backup") == manifest
    assert not list(tmp_path.glob(".backup.partial-*"))


def test_restore_gives_back_every_store_and_leaves_the_projections_to_rebuild(source: Settings, tmp_path: Path):
    take_backup(source, tmp_path / "backup")
    restored = restore_backup(tmp_path / "backup", tmp_path / "restored", ErasureJournal(tmp_path / "none.jsonl"))
    data = restored.settings.data_dir
    assert restored.settings.batch_size == 123  # the backed-up config file is in use
    assert sorted(p.name for p in data.iterdir()) == sorted(["cdp.toml", "sources.sqlite", "segments.sqlite", "tag_definitions.sqlite", "read_keys.sqlite", "triggers.sqlite", "deadletters.sqlite", "events.sqlite", "keys.sqlite", "master.key", "audit.sqlite"])
    with Platform(restored.settings) as platform:
        assert [orjson.loads(n.state)["message_id"] for n in platform.events.read(0, 10_000)] == [e["message_id"] for e in generate_events(EVENTS, seed=3)]
        assert [s.name for s in platform.sources.list()] == ["web"]
    assert (data / "master.key").read_bytes() == (source.data_dir / "master.key").read_bytes()


def test_the_master_key_stays_readable_by_its_owner_only(source: Settings, tmp_path: Path):
    previous = os.umask(0o022)  # the usual umask, under which a plain copy is world-readable
    try:
        take_backup(source, tmp_path / "backup")
        restored = restore_backup(tmp_path / "backup", tmp_path / "restored", ErasureJournal(tmp_path / "none.jsonl"))
        forced = restore_backup(tmp_path / "backup", restored.settings.data_dir, ErasureJournal(tmp_path / "none.jsonl"), replace=True)
    finally:
        os.umask(previous)
    for key in (source.data_dir / "master.key", tmp_path / "backup" / "master.key", restored.settings.data_dir / "master.key", forced.settings.data_dir / "master.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o700


def test_backup_refuses_a_non_empty_target_and_a_missing_event_store(source: Settings, tmp_path: Path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(CdpError, match="full: exists and is not an empty directory"):
        take_backup(source, tmp_path / "full")
    empty = load_settings(data_dir=tmp_path / "nothing")
    with pytest.raises(CdpError, match="no event store at .*nothing/events.sqlite"):
        take_backup(empty, tmp_path / "b2")
    assert not (tmp_path / "b2").exists() and not list(tmp_path.glob(".b2.partial-*"))


def test_an_interrupted_backup_leaves_nothing_that_looks_like_a_backup(source: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fail(*_):
        raise OSError("disk full")

    monkeypatch.setattr(stores, "copy_file", fail)  # the master key copy, after the event store
    with pytest.raises(OSError, match="disk full"):
        take_backup(source, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()
    assert not list(tmp_path.glob(".backup.partial-*"))


def _damage(backup: Path, how: str) -> str:
    manifest = json.loads((backup / "manifest.json").read_text())
    if how == "tampered":
        data = bytearray((backup / "sources.sqlite").read_bytes())
        data[-1] ^= 1
        (backup / "sources.sqlite").write_bytes(bytes(data))
        return "sources.sqlite: checksum mismatch"
    if how == "truncated":
        with (backup / "events.sqlite").open("r+b") as f:
            f.truncate(4096)
        return "events.sqlite: 4,096 bytes, the manifest says"
    if how == "missing file":
        (backup / "keys.sqlite").unlink()
        return "keys.sqlite: missing from the backup"
    if how == "partial":
        (backup / "manifest.json").unlink()
        return "manifest.json: missing; .* is not a complete backup"
    if how == "format version":
        manifest["format_version"] = 2
        (backup / "manifest.json").write_text(json.dumps(manifest))
        return "manifest.json: format_version 2 is not supported"
    if how == "bad manifest":
        manifest["files"][0]["size"] = "big"
        (backup / "manifest.json").write_text(json.dumps(manifest))
        return r"manifest.json: files\[0\].size"
    if how == "escaping name":
        manifest["files"][0]["name"] = "../../etc/passwd"
        (backup / "manifest.json").write_text(json.dumps(manifest))
        return "file name '../../etc/passwd' is not a plain file name"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["tampered", "truncated", "missing file", "partial", "format version", "bad manifest", "escaping name"])
def test_a_damaged_backup_is_refused_naming_the_file_and_nothing_is_touched(source: Settings, tmp_path: Path, how: str):
    take_backup(source, tmp_path / "backup")
    message = _damage(tmp_path / "backup", how)
    verified = cdp("backup", "verify", str(tmp_path / "backup"), data_dir=tmp_path / "unused")
    assert verified.returncode == 2
    assert verified.stderr.decode().startswith("error: ") and "Traceback" not in verified.stderr.decode()
    assert re.search(message, verified.stderr.decode().replace("\n", "")), verified.stderr.decode()

    target = tmp_path / "target"
    target.mkdir()
    restored = cdp("restore", str(tmp_path / "backup"), "--force", data_dir=target)
    assert restored.returncode == 2, restored.stderr
    assert list(target.iterdir()) == []


def test_restore_refuses_a_non_empty_data_directory_unless_forced(source: Settings, tmp_path: Path):
    take_backup(source, tmp_path / "backup")
    target = tmp_path / "target"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    refused = cdp("restore", str(tmp_path / "backup"), data_dir=target)
    assert refused.returncode == 2
    assert "target: not empty (notes.txt); restore into an empty data directory, or pass --force" in refused.stderr.decode()
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_a_forced_restore_replaces_the_stores_drops_stale_journals_and_projections_and_keeps_other_files(source: Settings, tmp_path: Path):
    take_backup(source, tmp_path / "backup")
    target = load_settings(data_dir=tmp_path / "target")
    with Platform(target) as platform:
        ingest(platform, 50, seed=99)  # another history, to be replaced
        platform.runner.run()
    data = target.data_dir
    (data / "events.sqlite-wal").write_bytes(b"stale wal of the replaced store")
    (data / "notes.txt").write_text("mine")
    journal = ErasureJournal(data / "erasures.jsonl")
    journal.record("customer-1", datetime.now(UTC) - timedelta(days=1))

    restored = restore_backup(tmp_path / "backup", data, journal, replace=True)

    assert not (data / "events.sqlite-wal").exists()
    assert not (data / "projections.sqlite").exists() and not (data / "warehouse").exists()
    assert (data / "notes.txt").read_text() == "mine" and journal.path.is_file()
    with Platform(restored.settings) as platform:
        assert platform.events.last_position() == EVENTS
        assert platform.runner.pending() == (0, EVENTS)
        assert platform.runner.run() == EVENTS


def test_erasures_journaled_after_the_backup_began_are_reported_or_reapplied(source: Settings, tmp_path: Path):
    journal = ErasureJournal(tmp_path / "elsewhere" / "erasures.jsonl")
    journal.record("forgotten-before", datetime.now(UTC) - timedelta(hours=1))
    manifest = take_backup(source, tmp_path / "backup")
    journal.record("forgotten-after")
    journal.record("forgotten-after")  # twice is one erasure

    restored = restore_backup(tmp_path / "backup", tmp_path / "r1", journal)
    assert [e.customer_id for e in restored.pending_erasures] == ["forgotten-after"]
    assert restored.pending_erasures[0].erased_at >= manifest.started_at

    forgotten = []
    restored = restore_backup(tmp_path / "backup", tmp_path / "r2", journal, forget=lambda platform, customer: forgotten.append((platform.settings.data_dir, customer)))
    assert forgotten == [(tmp_path / "r2", "forgotten-after")] and restored.pending_erasures == []


def test_a_customer_forgotten_after_the_backup_stays_forgotten_after_restore(source: Settings, tmp_path: Path):
    journal = {"CDP_ERASURE_JOURNAL": str(tmp_path / "journal" / "erasures.jsonl")}
    with Platform(source) as platform:
        platform.runner.run()
        (row,) = platform.warehouse.query("SELECT customer_id, emails[1] AS email FROM cdp.profiles FINAL WHERE length(emails) > 0 ORDER BY customer_id LIMIT 1")
    take_backup(source, tmp_path / "backup")
    forgot = cdp("forget", row["email"], "--json", data_dir=source.data_dir, env=journal)
    assert forgot.returncode == 0, forgot.stderr.decode()

    restored = cdp("restore", str(tmp_path / "backup"), "--rebuild", data_dir=tmp_path / "r3", env=journal)
    assert restored.returncode == 0, restored.stderr.decode()
    assert "forgot again 1 customer(s)" in restored.stdout.decode()
    found = cdp("profile", row["email"], data_dir=tmp_path / "r3")
    assert found.returncode != 0 and row["email"].encode() not in (tmp_path / "r3" / "events.sqlite").read_bytes()


def test_a_damaged_erasure_journal_is_refused_naming_the_line(source: Settings, tmp_path: Path):
    take_backup(source, tmp_path / "backup")
    journal = ErasureJournal(tmp_path / "erasures.jsonl")
    journal.record("c1")
    with journal.path.open("ab") as f:
        f.write(b'{"customer_id": "c2", "erased_at": "yesterday"}\n')
    with pytest.raises(CdpError, match=r"erasures.jsonl:2: not an erasure record"):
        restore_backup(tmp_path / "backup", tmp_path / "target", journal)
    assert not (tmp_path / "target").exists()


def test_restore_refuses_a_configuration_selecting_another_event_store_backend(source: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    take_backup(source, tmp_path / "backup")
    monkeypatch.setenv("CDP_EVENT_STORE__BACKEND", "postgres")
    with pytest.raises(CdpError, match="the backup holds a sqlite event store but the configuration selects postgres"):
        restore_backup(tmp_path / "backup", tmp_path / "target", ErasureJournal(tmp_path / "e.jsonl"))
    assert not (tmp_path / "target").exists()


def test_a_config_file_outside_the_data_directory_is_backed_up_as_cdp_toml(source: Settings, tmp_path: Path):
    elsewhere = tmp_path / "etc" / "cdp-prod.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text("batch_size = 77\n")
    take_backup(source, tmp_path / "backup", config_file=elsewhere)
    assert (tmp_path / "backup" / "cdp.toml").read_text() == "batch_size = 77\n"
