"""The stored form of projection state (projections/state_codec.py): MessagePack that decodes to
exactly what the JSON form decoded to, and state saved as JSON before, or in a table of an earlier
form, still loads."""

import sqlite3
from pathlib import Path

import orjson

from cdp.statestore import StateStore
from cdp.workload import generate
from projections import state_codec
from projections.identity import IdentityGraph, Resolution, resolve
from projections.pipeline import Output, Pipeline
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from schemas import parse_envelope


def projected_profiles() -> dict:
    """Every customer's state, live (not yet stored), after one batch of demo events."""
    tps = []
    for position, event in enumerate(generate(120), start=1):
        event["received_at"] = event["occurred_at"]
        tps.append(Touchpoint(position, parse_envelope(event).model_dump(mode="json")))
    pipeline = Pipeline(ProjectionRules())
    resolution = resolve(IdentityGraph({}, {}), tps, pipeline.rules.identity)
    output = pipeline.project({}, resolution, tps, set(), max(tp.occurred_ms for tp in tps), tps[-1].position)
    return output.profiles


def test_a_profile_decodes_to_what_json_gave_and_is_smaller():
    profiles = projected_profiles()
    assert len(profiles) > 50
    for profile in profiles.values():
        stored = state_codec.encode(profile)
        assert stored[:1] != b"{"
        assert state_codec.decode(stored) == orjson.loads(orjson.dumps(profile))
    assert sum(map(len, map(state_codec.encode, profiles.values()))) < sum(map(len, map(orjson.dumps, profiles.values())))


def test_state_saved_as_json_loads_and_is_saved_again_in_the_binary_form(tmp_path: Path):
    profiles = projected_profiles()
    customer, profile = next(iter(profiles.items()))
    store = StateStore(tmp_path / "state.sqlite")
    try:
        store._db.execute("INSERT INTO profiles (customer_id, state) VALUES (?, ?)", (customer, orjson.dumps(profile)))  # as an earlier version saved it
        loaded = store.load_profiles([customer])
        assert loaded == {customer: orjson.loads(orjson.dumps(profile))}
        store.commit(IdentityGraph({}, {}), Resolution({}, [], {}, set(), set()), Output(profiles=loaded), 1, 0)
        stored = store._db.execute("SELECT state FROM profiles WHERE customer_id = ?", (customer,)).fetchone()[0]
        assert stored[:1] != b"{" and state_codec.decode(stored) == loaded[customer]
    finally:
        store.close()


def test_a_file_with_the_earlier_without_rowid_table_is_adopted_with_its_states(tmp_path: Path):
    profiles = projected_profiles()
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as earlier:
        earlier.execute("CREATE TABLE profiles (customer_id TEXT PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID")
        earlier.executemany("INSERT INTO profiles VALUES (?, ?)", [(cid, state_codec.encode(p)) for cid, p in profiles.items()])
    earlier.close()
    for _ in range(2):  # the second open finds nothing to move
        store = StateStore(path)
        try:
            assert store.load_profiles(profiles) == profiles
            assert "WITHOUT ROWID" not in store._db.execute("SELECT sql FROM sqlite_schema WHERE name = 'profiles'").fetchone()[0]
            assert store._db.execute("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'profiles%' AND type = 'table'").fetchone()[0] == 1
        finally:
            store.close()
