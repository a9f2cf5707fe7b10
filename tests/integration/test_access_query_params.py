"""Hostile text passed as a query parameter comes back unchanged on every backend: never parsed as
SQL, never altered by the engine's escaping (a backslash, tab or newline once changed or failed on in-process chDB)."""

import threading


HOSTILE = ["a\\b", "a\\nb", "tab\there", "line\nbreak", "cr\rx", "q'x", 'd"x', "nul\x00x", "{x:String}", "'; DROP TABLE t; --", "ü🙂\u202e", "x" * 20_000]


def test_string_parameters_round_trip(any_warehouse):
    for text in HOSTILE:
        assert any_warehouse.query("SELECT {x:String} AS v", {"x": text}) == [{"v": text}], repr(text[:20])
    assert any_warehouse.query("SELECT {xs:Array(String)} AS v", {"xs": HOSTILE}) == [{"v": HOSTILE}]


def test_threads_sharing_a_warehouse_each_get_their_own_answer(any_warehouse):
    """The server's runner and its read API share one warehouse: parameters must not cross between threads."""
    wrong: list[str] = []

    def ask(n: int) -> None:
        for i in range(40):
            value = f"t{n}-{i}"
            try:
                if any_warehouse.query("SELECT {v:String} AS v, {n:UInt32} AS n", {"v": value, "n": n}) != [{"v": value, "n": n}]:
                    wrong.append(value)
            except Exception as error:  # noqa: BLE001 (a crossed parameter shows as a refused query)
                wrong.append(f"{value}: {error}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
