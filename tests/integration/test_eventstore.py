"""The event store on a real SQLite file, and on a real PostgreSQL server."""

from dataclasses import replace
from uuid import UUID

import orjson
import pytest

from cdp.config import Settings, load_settings
from cdp.eventstore import open_event_store


def envelope(n: int) -> tuple[str, str, bytes]:
    return "web", f"m{n}", orjson.dumps({"n": n})


def on_postgres(settings: Settings, postgres) -> Settings:
    """The settings with their event store on the test PostgreSQL server."""
    return load_settings(data_dir=settings.data_dir, event_store={"backend": "postgres", "postgres": postgres.__dict__})


def test_append_read_in_order_and_dedupe(settings: Settings):
    store = open_event_store(settings)
    assert store.append([envelope(1), envelope(2), envelope(1)]).__dict__ == {"stored": 2, "duplicates": 1}
    assert store.append([envelope(2), envelope(3)]).__dict__ == {"stored": 1, "duplicates": 1}
    assert store.append([envelope(3)]).__dict__ == {"stored": 0, "duplicates": 1}
    notes = store.read(0, 10)
    assert [n.id for n in notes] == [1, 2, 3]
    assert [orjson.loads(n.state)["n"] for n in notes] == [1, 2, 3]
    assert [n.id for n in store.read(2, 10)] == [3]
    store.close()


def test_same_message_id_from_another_source_is_another_event(settings: Settings):
    store = open_event_store(settings)
    assert store.append([("web", "m1", b"{}"), ("app", "m1", b"{}")]).stored == 2
    store.close()


def test_events_survive_reopening_the_file(settings: Settings):
    store = open_event_store(settings)
    store.append([envelope(n) for n in range(1000)])
    store.close()
    assert settings.event_store_path.is_file()
    reopened = open_event_store(settings)
    assert reopened.last_position() == 1000
    assert reopened.append([envelope(5)]).duplicates == 1
    reopened.close()


def test_a_large_batch_is_one_append(settings: Settings):
    store = open_event_store(settings)
    result = store.append([envelope(n) for n in range(5000)])
    assert result.stored == 5000
    assert len(store.read(0, 10_000)) == 5000
    store.close()


def test_postgresql_is_selected_by_configuration(settings: Settings, postgres):
    pg = on_postgres(settings, postgres)
    store = open_event_store(pg)
    start = store.last_position()
    assert store.append([envelope(n) for n in range(100)] + [envelope(1)]).__dict__ == {"stored": 100, "duplicates": 1}
    assert store.append([envelope(5), envelope(100)]).__dict__ == {"stored": 1, "duplicates": 1}
    notes = store.read(start, 1000)
    assert [orjson.loads(n.state)["n"] for n in notes] == [*range(101)]
    assert not settings.event_store_path.exists()
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_store_reads_what_the_recorders_own_select_reads(settings: Settings, request: pytest.FixtureRequest, backend: str):
    """``SQLiteSelect`` and ``PostgresSelect`` (plain rows) give the notifications eventsourcing's select
    gives, bounds included; on SQLite the originator id is the stored text of the same UUID."""
    config = settings if backend == "sqlite" else on_postgres(settings, request.getfixturevalue("postgres"))
    store = open_event_store(config)
    start = store.last_position()
    assert store.append([("select", f"m{n}", orjson.dumps({"n": n})) for n in range(50)]).stored == 50  # ids of its own: the server is shared
    recorder = store._recorder
    for after, limit, until in [(start, 100, None), (start + 10, 5, None), (start + 10, 100, start + 20), (start + 49, 10, None), (start + 50, 10, None)]:
        read = store.read(after, limit, until)
        expected = recorder.select_notifications(start=after, limit=limit, stop=until, inclusive_of_start=False)
        assert [replace(n, originator_id=UUID(str(n.originator_id))) for n in read] == expected
        assert all(type(n.state) is bytes for n in read)
    assert [n.id for n in store.read(start + 10, 100, until=start + 20)] == [*range(start + 11, start + 21)]
    store.close()


def test_event_ids_are_uuid5_of_source_and_message_id():
    import uuid

    from cdp.eventstore import EVENT_NAMESPACE, event_id

    for source, message in [("web", "m1"), ("app", "订单-42"), ("x", "a/b/" + "z" * 300)]:
        assert event_id(source, message) == uuid.uuid5(EVENT_NAMESPACE, f"{source}/{message}").hex


def test_a_write_of_many_megabytes_to_postgresql_ends(settings: Settings, postgres):
    """24 MB in one append (20,000 events of 1.2 kB: a collector's group write of large events, a
    ``cdp import`` batch): eventsourcing's own insert hung for ever past ~5 MB (psycopg's pipeline
    mode), holding the table lock every other writer waits for. A hang fails here, it does not stall the suite."""
    import threading

    store = open_event_store(on_postgres(settings, postgres))
    start = store.last_position()
    body = orjson.dumps({"text": "x" * 1200})
    appended = []
    writer = threading.Thread(target=lambda: appended.append(store.append([("large", f"m{n}", body) for n in range(20_000)] + [("large", "m7", body)])), daemon=True)
    writer.start()
    writer.join(120)
    assert not writer.is_alive(), "a 24 MB append to PostgreSQL did not end within 120 s"
    assert appended[0].__dict__ == {"stored": 20_000, "duplicates": 1}
    assert store.append([("large", "m19999", body), ("large", "m20000", body)]).__dict__ == {"stored": 1, "duplicates": 1}
    notes = store.read(start, 30_000)
    assert [n.id for n in notes] == [*range(start + 1, start + 20_002)]
    assert {n.state for n in notes} == {body}
    store.close()


def test_a_postgresql_write_larger_than_one_statement_keeps_its_order(settings: Settings, postgres, monkeypatch: pytest.MonkeyPatch):
    """A write whose bodies pass what one insert statement takes (PostgreSQL: 1 GB in one parameter;
    lowered here) is split into statements of one transaction: every event once, positions in the order given."""
    from cdp.eventstore import PostgresInsert

    monkeypatch.setattr(PostgresInsert, "statement_bytes", 10_000)
    store = open_event_store(on_postgres(settings, postgres))
    start = store.last_position()
    events = [("split", f"m{n}", orjson.dumps({"n": n, "pad": "p" * (3000 if n % 7 else 25_000)})) for n in range(60)]
    assert store.append(events + [events[3]]).__dict__ == {"stored": 60, "duplicates": 1}
    notes = store.read(start, 1000)
    assert [n.id for n in notes] == [*range(start + 1, start + 61)]
    assert [orjson.loads(n.state)["n"] for n in notes] == [*range(60)]
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_processes_append_without_gaps_or_losses(settings: Settings, request: pytest.FixtureRequest, backend: str):
    """Several collector processes write one store: every event once, positions in one run with no gap."""
    import multiprocessing

    config = settings if backend == "sqlite" else on_postgres(settings, request.getfixturevalue("postgres"))
    store = open_event_store(config)
    start = store.last_position()
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        results = pool.starmap(_append_range, [(config, first) for first in (0, 500, 1000, 0)])
    assert sum(stored for stored, _ in results) == 1500
    assert sum(duplicates for _, duplicates in results) == 500
    notes = store.read(start, 10_000)
    assert [n.id for n in notes] == list(range(start + 1, start + 1501))
    assert sorted(orjson.loads(n.state)["n"] for n in notes) == list(range(1500))
    store.close()


def _append_range(settings: Settings, start: int) -> tuple[int, int]:
    store = open_event_store(settings)
    try:
        totals = [0, 0]
        for first in range(start, start + 500, 50):
            appended = store.append([("concurrent", f"m{n}", orjson.dumps({"n": n})) for n in range(first, first + 50)])
            totals[0] += appended.stored
            totals[1] += appended.duplicates
        return totals[0], totals[1]
    finally:
        store.close()
