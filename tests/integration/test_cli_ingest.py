"""``cdp ingest``: good lines stored, each bad line reported by number and kept, re-ingest idempotent."""

from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.eventstore import open_event_store
from cdp.platform import Platform
from tests.cli import cdp
from tests.events import event, order

GOOD = [
    order("2025-01-02", 10, "o1", email="a@example.com"),
    event("page_viewed", "2025-01-03", anonymous_id="anon-1"),
    event("nps_answered", "2025-01-04", email="a@example.com", properties={"score": 9}),
]


def write_file(path: Path) -> Path:
    lines = [
        orjson.dumps(GOOD[0]),
        b"{not json",  # line 2
        orjson.dumps(GOOD[1]),
        orjson.dumps(order("2025-01-02", -5, "o2", email="b@example.com")),  # line 4: negative amount
        b"",  # blank lines are skipped
        b"\xff\xfe invalid utf-8",  # line 6
        orjson.dumps(GOOD[2]),
        b'{"message_id": "x", "event_type": "nps_answered", "source_kind": "survey", "source_name": "s", "occurred_at": "2025-01-01", "identifiers": {"email": "a@example.com"}, "properties": {"score": NaN}}',  # line 8
        b"[1, 2, 3]",  # line 9
        orjson.dumps(event("page_viewed", "2090-01-01", anonymous_id="time-traveller")),  # line 10: far future
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_bad_lines_are_reported_kept_and_good_lines_stored(tmp_path: Path):
    data = tmp_path / "data"
    file = write_file(tmp_path / "events.jsonl")
    first = cdp("ingest", str(file), data_dir=data)
    assert first.returncode == 1
    errors = first.stderr.decode()
    assert "Traceback" not in errors
    for number, words in [(2, "malformed JSON"), (4, "properties.amount: Input should be greater than or equal to 0"), (6, "malformed JSON"), (8, "malformed JSON"), (9, "(event): expected a JSON object, got an array"), (10, "occurred_at")]:
        assert f"events.jsonl:{number}: " in errors and words in errors, (number, errors)
    assert "3 stored, 0 already stored, 6 rejected" in first.stdout.decode()

    settings = load_settings(data_dir=data)
    store = open_event_store(settings)
    assert store.last_position() == 3
    store.close()
    with Platform(settings) as platform:  # letters are sealed: read them through the platform's key store
        letters = platform.dead_letters.list()
    assert sorted(letter.origin for letter in letters) == sorted(f"events.jsonl:{n}" for n in (2, 4, 6, 8, 9, 10))
    assert {letter.payload for letter in letters if letter.origin == "events.jsonl:6"} == {b"\xff\xfe invalid utf-8"}

    again = cdp("ingest", str(file), data_dir=data)
    assert "0 stored, 3 already stored, 6 rejected" in again.stdout.decode()
    store = open_event_store(settings)
    assert store.last_position() == 3
    store.close()


def test_ingest_from_stdin_and_clean_file_exits_zero(tmp_path: Path):
    body = b"\n".join(orjson.dumps(e) for e in GOOD)
    result = cdp("ingest", "-", data_dir=tmp_path / "data", stdin=body)
    assert result.returncode == 0, result.stderr
    assert "3 stored" in result.stdout.decode()


def test_missing_file_is_one_clear_line(tmp_path: Path):
    result = cdp("ingest", str(tmp_path / "nope.jsonl"), data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == f"error: {tmp_path / 'nope.jsonl'}: no such file"


def test_invalid_configuration_is_one_clear_line(tmp_path: Path):
    result = cdp("run", data_dir=tmp_path / "data", env={"CDP_BATCH_SIZE": "-3"})
    assert result.returncode == 2
    assert "error: invalid configuration: batch_size: Input should be greater than 0" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
