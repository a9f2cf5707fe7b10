"""A poison event (one the runner cannot open or project) is quarantined, never a halt: the events
around it are processed, a rebuild skips exactly the same ones and says so, a replay after a fix
processes it, and ``/health`` turns ``degraded``."""

import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from cdp.config import load_settings
from cdp.eventstore import event_id
from cdp.platform import Platform
from cdp.privacy.sealed_errors import opened
from cdp.rebuild import rebuild
from ingestion.validation import validate
from projections.tables import WAREHOUSE_TABLES
from tests.cli import cdp, serve
from tests.events import event
from tests.integration.scaleout_harness import table_rows
from tests.waiting import TLS, wait_until

RECEIVED = datetime(2026, 6, 2, tzinfo=UTC)
DEPTH = 254  # orjson encodes at most 254 levels: the events table's context column cannot be written


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def poison(message_id: str = "poison"):
    """A valid event, then a batch-level context nested DEPTH levels deep put in without validation
    (as the collector once let through): it is sealed and stored, and opening it fails."""
    envelope = validate(event("page_viewed", "2026-01-02", message_id=message_id, email="p@example.com"), RECEIVED)
    return envelope.model_copy(update={"context": nested(DEPTH)})


def store_tampered(platform: Platform, message_id: str = "tampered") -> None:
    """Stores an event whose sealed part was altered: it cannot be opened (the cipher's tag fails)."""
    [(source, message, body)] = platform.events.sealer.seal([good(0, "2026-01-02").model_copy(update={"message_id": message_id})])
    start = body.index(b'"data":"') + len(b'"data":"')
    platform.events.store.append([(source, message, body[:start] + (b"B" if body[start:start + 1] == b"A" else b"A") + body[start + 1 :])])


def good(n: int, day: str = "2026-01-01", customer: int | None = None):
    return validate(event("page_viewed", day, message_id=f"good-{n}", email=f"c{n if customer is None else customer}@example.com"), RECEIVED)


def stored_messages(platform: Platform) -> list[str]:
    return [row["message_id"] for row in platform.warehouse.query("SELECT message_id FROM cdp.events FINAL ORDER BY message_id")]


def kept_errors(platform: Platform) -> list[tuple[int, str]]:
    """The quarantine's positions and errors, opened as `cdp quarantine list` shows them."""
    return [(q.position, q.error) for q in opened(platform.events.sealer, platform.quarantine.list())]


def every_table(platform: Platform) -> dict[str, list[tuple]]:
    return {t.name: table_rows(platform.warehouse, t.name) for t in WAREHOUSE_TABLES}


def test_a_poison_event_is_quarantined_and_processing_goes_on(tmp_path: Path):
    with Platform(load_settings(data_dir=tmp_path)) as platform:
        platform.append([good(1), poison(), good(2)])
        assert platform.runner.run() == 3
        assert stored_messages(platform) == ["good-1", "good-2"]
        [kept] = platform.quarantine.list()
        assert (kept.position, kept.event_id) == (2, event_id("web", "poison"))
        assert kept_errors(platform) == [(2, "TypeError: Recursion limit reached")] and kept.attempts == 1
        platform.append([good(3)])  # sent later: reaches the warehouse
        assert platform.runner.run() == 1
        assert stored_messages(platform) == ["good-1", "good-2", "good-3"]
        incremental = every_table(platform)

    listed = cdp("quarantine", "list", "--format", "json", data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(q["position"], q["error"]) for q in orjson.loads(listed.stdout)] == [(2, "TypeError: Recursion limit reached")]

    rebuilt = cdp("projections", "rebuild", data_dir=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "from 4 events; 1 quarantined, skipped (cdp quarantine list)" in " ".join(rebuilt.stdout.decode().split())

    replayed = cdp("quarantine", "replay", data_dir=tmp_path)  # nothing fixed: it stays, with its error
    assert replayed.returncode == 1 and b"Traceback" not in replayed.stderr
    assert replayed.stderr.decode().strip() == "position 2: TypeError: Recursion limit reached"
    assert replayed.stdout.decode().strip() == "0 replayed, 1 still failing"
    unknown = cdp("quarantine", "replay", "99", data_dir=tmp_path)
    assert (unknown.returncode, unknown.stderr.decode()) == (2, "error: position 99 is not quarantined (cdp quarantine list)\n")

    with Platform(load_settings(data_dir=tmp_path)) as platform:
        assert every_table(platform) == incremental  # the rebuild skipped exactly the same event
        assert [(q.position, q.attempts) for q in platform.quarantine.list()] == [(2, 2)]


def test_only_the_guilty_event_of_a_batch_is_quarantined_and_a_replay_after_the_fix_processes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with Platform(load_settings(data_dir=tmp_path)) as platform:
        platform.append([good(n) for n in range(10)])
        runner = platform.runner
        project, calls = runner._pipeline.project, []

        def project_failing_on_good_6(loaded, resolution, touchpoints, *args):  # a projection bug hit by one event
            calls.append(len(touchpoints))
            if any(tp.event["message_id"] == "good-6" for tp in touchpoints):
                raise KeyError("amount")
            return project(loaded, resolution, touchpoints, *args)

        monkeypatch.setattr(runner._pipeline, "project", project_failing_on_good_6)
        assert runner.run() == 10
        assert stored_messages(platform) == [f"good-{n}" for n in range(10) if n != 6]
        assert kept_errors(platform) == [(7, "KeyError: 'amount'")]
        assert len(calls) < 10  # halved down to the guilty event, not event by event

        platform.append([good(10)])
        calls.clear()
        assert runner.run() == 1 and calls == [1]  # a batch without a poison is tried once

        monkeypatch.undo()  # the fix
        assert runner.retry([7]) == []
        assert platform.quarantine.count() == 0
        assert stored_messages(platform) == sorted(f"good-{n}" for n in range(11))
        profile = platform.warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL WHERE has(emails, 'c6@example.com')")
        assert profile == [{"n": 1}]


def test_an_infrastructure_error_stops_the_runner_and_quarantines_nothing(platform: Platform, monkeypatch: pytest.MonkeyPatch):
    platform.append([good(1)])
    runner = platform.runner

    def unavailable(*_):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(runner._state, "load_identity", unavailable)
    with pytest.raises(sqlite3.OperationalError):
        runner.run()
    assert platform.quarantine.count() == 0 and runner.pending() == (0, 1)
    monkeypatch.undo()
    assert runner.run() == 1 and stored_messages(platform) == ["good-1"]


def test_a_rebuild_gives_what_incremental_processing_gave_around_a_poison(tmp_path: Path):
    with Platform(load_settings(data_dir=tmp_path, batch_size=2)) as platform:
        platform.append([good(1), good(2, "2026-01-03"), poison(), good(3)])
        store_tampered(platform)
        platform.append([good(4, "2026-01-05", customer=1)])
        platform.runner.run()
        incremental, kept = every_table(platform), kept_errors(platform)
        assert kept == [(3, "TypeError: Recursion limit reached"), (5, "InvalidTag: ")]
        rebuild(platform, [])
        assert every_table(platform) == incremental
        assert kept_errors(platform) == kept


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_goes_on_past_a_poison_and_health_says_degraded_with_the_count(tmp_path: Path, workers: int):
    data = tmp_path / "data"
    with Platform(load_settings(data_dir=data)) as platform:
        write_key = platform.sources.add("web", "website")[1]
        admin = {"Authorization": "Bearer " + platform.read_keys.create("ops", ["admin"])[1]}
        platform.append([poison()])
    server, url = serve(data, {"CDP_COLLECTOR__WORKERS": str(workers)})
    try:
        wait_until(lambda: httpx.get(url + "/health", verify=TLS).status_code == 200)
        sent = httpx.post(url + "/v1/track", json={"userId": "u-1", "event": "Clicked", "messageId": "after"}, auth=(write_key, ""))
        assert sent.json() == {"success": True}
        wait_until(lambda: httpx.get(url + "/health", headers=admin, verify=TLS).json()["runner"].get("position", 0) >= 2)
        for _ in range(2 * workers):  # whichever worker answers
            assert httpx.get(url + "/health").json() == {"status": "degraded"}
            detailed = httpx.get(url + "/health", headers=admin).json()
            assert (detailed["status"], detailed["quarantined"], detailed["runner"]["state"]) == ("degraded", 1, "following")
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=90)
        print(stderr.decode()[-4000:], file=sys.stderr)
    assert b"Traceback" not in stderr
    counted = cdp("sql", "SELECT message_id FROM cdp.events", "--format", "json", data_dir=data)
    assert [row["message_id"] for row in orjson.loads(counted.stdout)] == ["after"]


LI_NA = "li.na@example.com"


def listed_errors(data_dir: Path) -> list[tuple[int, str]]:
    listed = cdp("quarantine", "list", "--format", "json", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    return [(q["position"], q["error"]) for q in orjson.loads(listed.stdout)]


def quarantine_files_holding(data_dir: Path, text: str) -> list[str]:
    files = [data_dir / f"quarantine.sqlite{suffix}" for suffix in ("", "-wal", "-journal")]
    return [f.name for f in files if f.exists() and text.encode() in f.read_bytes()]


def test_an_error_quoting_a_person_is_kept_sealed_and_forgetting_them_shreds_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with Platform(load_settings(data_dir=tmp_path)) as platform:
        mine = [validate(event("page_viewed", f"2026-01-0{n}", message_id=f"li-{n}", email=LI_NA), RECEIVED) for n in (1, 2)]
        platform.append([mine[0], good(1), mine[1]])
        runner = platform.runner
        project = runner._pipeline.project

        def project_quoting_the_email(loaded, resolution, touchpoints, *args):  # a projection bug whose message quotes a value
            if any(tp.event["message_id"] == "li-2" for tp in touchpoints):
                raise ValueError(f"could not convert string to float: {LI_NA!r}")
            return project(loaded, resolution, touchpoints, *args)

        monkeypatch.setattr(runner._pipeline, "project", project_quoting_the_email)
        assert runner.run() == 3
        assert stored_messages(platform) == ["good-1", "li-1"]

    assert listed_errors(tmp_path) == [(3, f"ValueError: could not convert string to float: '{LI_NA}'")]
    assert quarantine_files_holding(tmp_path, LI_NA) == []  # never in clear

    forgot = cdp("forget", LI_NA, data_dir=tmp_path)
    assert forgot.returncode == 0, forgot.stderr
    assert listed_errors(tmp_path) == [(3, "ValueError (its message was sealed with the data key of a forgotten person)")]
    assert quarantine_files_holding(tmp_path, LI_NA) == []


def test_an_error_without_a_key_to_seal_it_keeps_its_type_name_only(platform: Platform):
    from cdp.privacy import sealed_errors

    error = ValueError(f"could not convert string to float: {LI_NA!r}")
    sealer = platform.events.sealer
    assert sealed_errors.key_id(b'{"context": {"a": ') is None and sealed_errors.key_id(b'{"event_type": "page_viewed"}') is None
    assert sealed_errors.quarantined(sealer, 1, "e1", None, error).error == "ValueError"
    [(_, _, stored)] = sealer.seal([good(1)])
    kept = sealed_errors.quarantined(sealer, 1, "e1", sealed_errors.key_id(stored), error)
    assert LI_NA not in kept.error and sealed_errors.opened(sealer, [kept])[0].error == f"ValueError: could not convert string to float: '{LI_NA}'"


def test_errors_kept_in_clear_by_an_earlier_version_are_cut_to_their_type_name(tmp_path: Path):
    from cdp.quarantine import QuarantineStore, Quarantined

    path = tmp_path / "quarantine.sqlite"
    QuarantineStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO quarantine VALUES (1, 'e1', ?, '2026-12-05', 1)", (f"ValueError: could not convert string to float: {LI_NA!r}",))
    db.close()
    store = QuarantineStore(path)
    store.add([Quarantined(2, "e2", "TypeError")])
    assert [(q.position, q.error) for q in store.list()] == [(1, "ValueError"), (2, "TypeError")]
    store.close()
    assert quarantine_files_holding(tmp_path, LI_NA) == []
