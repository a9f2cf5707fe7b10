"""The poison isolation the embedded runner and the scale-out worker share (``cdp.batch_core``)."""

import sqlite3

import pytest

from cdp.batch_core import plan_isolating

POISON = "poison"


def planner(items: list[str]):
    """A plan over ``items`` that fails on any poison it is given; records the calls."""
    calls: list[tuple[int, frozenset[int]]] = []

    def plan(count: int, skipped: frozenset[int]) -> list[str]:
        calls.append((count, skipped))
        kept = [item for n, item in enumerate(items[:count]) if n not in skipped]
        if POISON in kept:
            raise KeyError(f"bad item at {kept.index(POISON)}")
        return kept

    return plan, calls


def test_a_batch_without_a_poison_is_planned_once():
    plan, calls = planner(["a", "b", "c"])
    assert plan_isolating(plan, 3, lambda *_: pytest.fail("nothing to blame")) == ["a", "b", "c"]
    assert calls == [(3, frozenset())]


def test_each_poison_is_blamed_alone_and_the_rest_planned():
    items = ["a", POISON, "b", "c", "d", POISON, "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"]
    plan, calls = planner(items)
    blamed: list[tuple[int, str]] = []
    planned = plan_isolating(plan, len(items), lambda index, error: blamed.append((index, type(error).__name__)) or True)
    assert planned == [item for item in items if item != POISON]
    assert blamed == [(1, "KeyError"), (5, "KeyError")]
    assert len(calls) < len(items)  # bisection, not item by item


def test_an_item_that_cannot_be_blamed_raises_the_batch_error():
    plan, _ = planner(["a", POISON])
    with pytest.raises(KeyError):
        plan_isolating(plan, 2, lambda *_: False)


def test_an_infrastructure_error_is_raised_and_blames_nothing():
    def plan(count: int, skipped: frozenset[int]) -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError):
        plan_isolating(plan, 4, lambda *_: pytest.fail("an infrastructure error is no event's fault"))
