"""The event store on a real SQLite file."""

import orjson

from cdp.config import Settings, load_settings
from cdp.eventstore import open_event_store


def envelope(n: int) -> tuple[str, str, bytes]:
    return "web", f"m{n}", orjson.dumps({"n": n})


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
    pg = load_settings(data_dir=settings.data_dir, event_store={"backend": "postgres", "postgres": postgres.__dict__})
    store = open_event_store(pg)
    start = store.last_position()
    assert store.append([envelope(n) for n in range(100)] + [envelope(1)]).__dict__ == {"stored": 100, "duplicates": 1}
    assert store.append([envelope(5), envelope(100)]).__dict__ == {"stored": 1, "duplicates": 1}
    notes = store.read(start, 1000)
    assert [orjson.loads(n.state)["n"] for n in notes] == [*range(101)]
    assert not settings.event_store_path.exists()
    store.close()
