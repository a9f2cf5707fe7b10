"""The JSON checks orjson does not make, against Python's own parser as the reference."""

import json
import random

import orjson

from ingestion.jsontext import CUT, cut, deeper_than, duplicate_key, may_repeat_key


def test_duplicate_key_finds_what_a_parser_keeping_pairs_sees():
    rng = random.Random(7)
    keys = ["batch", "b", 'q"uote', "back\\slash", "{", "[:]", "é", "bat\u0063h"]

    def value(levels: int) -> str:
        if levels == 0 or rng.random() < 0.3:
            return rng.choice(["1", "null", json.dumps(rng.choice(keys)), '"a\\"b"'])
        if rng.random() < 0.5:
            return "[" + ", ".join(value(levels - 1) for _ in range(rng.randint(0, 3))) + "]"
        return "{" + ",".join(f"{json.dumps(rng.choice(keys), ensure_ascii=rng.random() < 0.5)} :{value(levels - 1)}" for _ in range(rng.randint(0, 3))) + "}"

    for _ in range(3000):
        top = [rng.choice(keys) for _ in range(rng.randint(0, 4))]
        text = ("{" + ", ".join(f"{json.dumps(k, ensure_ascii=rng.random() < 0.5)}: {value(3)}" for k in top) + "}").encode()
        pairs = json.loads(text, object_pairs_hook=lambda p: p)
        names = [k for k, _ in pairs]
        expected = next((k for i, k in enumerate(names) if k in names[:i]), None)
        assert duplicate_key(text) == expected, text
        if expected == "batch":
            assert may_repeat_key(text, "batch"), text


def test_a_key_written_with_escapes_may_repeat():
    assert may_repeat_key(b'{"batch": [], "bat\\u0063h": []}', "batch")
    assert not may_repeat_key(b'{"batch": [{"name": "batch", "city": "caf\\u00e9"}]}', "batch")


def test_cut_keeps_a_serialisable_form_that_is_still_too_deep():
    deep: dict = {}
    for _ in range(1000):
        deep = {"a": [deep]}
    kept = orjson.loads(orjson.dumps(cut(deep, 64)))
    assert deeper_than(kept, 32) and not deeper_than(kept, 64)
    assert CUT in orjson.dumps(kept).decode()
