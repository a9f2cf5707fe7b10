"""Hostile text passed as a query parameter comes back unchanged on every backend: never parsed as
SQL, never altered by the engine's escaping (a backslash, tab or newline once changed or failed on chDB)."""

from tests.integration.backends import any_warehouse  # noqa: F401  (the fixture)

HOSTILE = ["a\\b", "a\\nb", "tab\there", "line\nbreak", "cr\rx", "q'x", 'd"x', "nul\x00x", "{x:String}", "'; DROP TABLE t; --", "ü🙂\u202e", "x" * 20_000]


def test_string_parameters_round_trip(any_warehouse):  # noqa: F811
    for text in HOSTILE:
        assert any_warehouse.query("SELECT {x:String} AS v", {"x": text}) == [{"v": text}], repr(text[:20])
    assert any_warehouse.query("SELECT {xs:Array(String)} AS v", {"xs": HOSTILE}) == [{"v": HOSTILE}]
