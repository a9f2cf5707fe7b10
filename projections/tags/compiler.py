"""Compiles a tag rule set once into bit masks, so thousands of rules cost little per customer.

Every distinct condition gets one bit. Threshold conditions on the same feature and operator are
sorted once; a customer's value then finds all the thresholds it passes with one binary search
and one precomputed mask. Equality and membership tests are dictionary lookups. A rule holds when
its ``all`` mask is inside the satisfied bits and (if it has one) its ``any`` mask meets them.
Per moment, each feature a rule reads is computed once, whatever the number of rules.
"""

import bisect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projections.tags.features import DAY_MS, Context, anchor_at, feature_kind, reader
from projections.tags.rules import Condition, TagRule

Key = tuple[str, int | None]  # (feature, window in ms)
_NUMBER = (int, float)  # what a threshold compares (bool is an int, as before)


@dataclass(frozen=True, slots=True)
class _Thresholds:
    values: list[float]
    masks: list[int]  # masks[i]: bits satisfied when bisect gives i
    search: Callable[[list[float], float], int]


def _threshold_group(op: str, pairs: list[tuple[float, int]]) -> _Thresholds:
    pairs.sort()
    values = [v for v, _ in pairs]
    bits = [b for _, b in pairs]
    prefix = [0]
    for b in bits:
        prefix.append(prefix[-1] | b)
    suffix = [0]
    for b in reversed(bits):
        suffix.append(suffix[-1] | b)
    suffix.reverse()  # suffix[i] = bits of thresholds i..end
    if op == ">=":  # thresholds <= value
        return _Thresholds(values, prefix, bisect.bisect_right)
    if op == ">":  # thresholds < value
        return _Thresholds(values, prefix, bisect.bisect_left)
    if op == "<=":  # thresholds >= value
        return _Thresholds(values, suffix, bisect.bisect_left)
    return _Thresholds(values, suffix, bisect.bisect_right)  # "<": thresholds > value


class CompiledTags:
    def __init__(self, rules: list[TagRule]):
        self.rules = rules
        bit_of: dict[tuple, int] = {}

        def bit(c: Condition) -> int:
            key = (c.feature, c.within_days, c.op, tuple(c.value) if isinstance(c.value, list) else c.value)
            if key not in bit_of:
                bit_of[key] = 1 << len(bit_of)
            return bit_of[key]

        self._rules = [(r.tag, _or(bit(c) for c in r.all), _or(bit(c) for c in r.any)) for r in rules]
        thresholds: dict[tuple[Key, str], list] = defaultdict(list)
        equals: dict[Key, dict[Any, int]] = defaultdict(dict)
        tests: dict[Key, list[tuple[Callable[[Any], bool], int]]] = defaultdict(list)
        elapsed: dict[str, set[int]] = defaultdict(set)
        for (feature, days, op, value), b in bit_of.items():
            key = (feature, None if days is None else days * DAY_MS)
            if op in ("<", "<=", ">", ">="):
                thresholds[(key, op)].append((value, b))
                if feature_kind(feature) == "elapsed":
                    elapsed[feature].update((round(value * DAY_MS), round(value * DAY_MS) + 1))
            elif op == "==":
                equals[key][value] = equals[key].get(value, 0) | b
            else:
                tests[key].append((_test(op, value), b))
        self.keys: list[Key] = sorted(
            {key for key, _ in thresholds} | set(equals) | set(tests), key=lambda k: (k[0], -1 if k[1] is None else k[1])
        )
        index = {key: i for i, key in enumerate(self.keys)}
        self._thresholds = [(index[key], group.values, group.masks, group.search) for (key, op), pairs in thresholds.items() for group in [_threshold_group(op, pairs)]]
        self._equals = [(index[key], table) for key, table in equals.items()]
        self._tests = [(index[key], test, b) for key, group in tests.items() for test, b in group]
        self._elapsed = {feature: sorted(offsets) for feature, offsets in elapsed.items()}
        self._timed = [(name, window, feature_kind(name)) for name, window in self.keys if _time_driven(name, window)]

    def features(self, ctx: Context, t: int) -> list[Any]:
        """The value of every feature the rules read (in ``keys`` order), as of ``t``."""
        return self.reader(ctx)(t)

    def reader(self, ctx: Context) -> Callable[[int], list[Any]]:
        """``features`` of one customer at many moments: its facts bound once."""
        readers = [reader(ctx, name, window) for name, window in self.keys]
        return lambda t: [read(t) for read in readers]

    def satisfied(self, values: list[Any]) -> int:
        sat = 0
        for i, thresholds, masks, search in self._thresholds:
            v = values[i]
            if isinstance(v, _NUMBER):
                sat |= masks[search(thresholds, v)]
        for i, table in self._equals:
            v = values[i]
            if not isinstance(v, list):
                sat |= table.get(v, 0)
        for i, test, b in self._tests:
            if test(values[i]):
                sat |= b
        return sat

    def tags(self, values: list[Any]) -> list[str]:
        """The tags that hold for these feature values, in rule order."""
        return self.held(self.satisfied(values))

    def held(self, sat: int) -> list[str]:
        """The tags that hold when the conditions of ``sat``'s bits do (``satisfied``), in rule order."""
        return [tag for tag, all_mask, any_mask in self._rules if not all_mask & ~sat and (not any_mask or any_mask & sat)]

    def next_change(self, ctx: Context, t: int) -> int | None:
        """The next moment after ``t`` at which a feature a rule reads may change without a new event."""
        moments = []
        for name, window, kind in self._timed:
            if kind == "window":
                series = ctx.series.get(name)
                moment = series.next_drop(t, window) if series is not None else None
            elif kind == "latest":  # lifecycle stages also change at time-driven moments
                moment = ctx.latest[name].next_change(t)
            else:
                anchor = anchor_at(ctx, name, t)
                offsets = self._elapsed.get(name, ())
                i = None if anchor is None else bisect.bisect_right(offsets, t - anchor)  # the first offset with anchor + offset > t
                moment = anchor + offsets[i] if i is not None and i < len(offsets) else None
            if moment is not None:
                moments.append(moment)
        return min(moments, default=None)


def _time_driven(name: str, window: int | None) -> bool:
    """Whether the feature can change with time alone, between events."""
    kind = feature_kind(name)
    return (kind == "window" and window is not None) or kind == "elapsed" or name == "lifecycle_stage"


def _or(bits) -> int:
    mask = 0
    for b in bits:
        mask |= b
    return mask


def _test(op: str, value: Any) -> Callable[[Any], bool]:
    if op == "!=":
        return lambda v: v is not None and v != value
    if op == "in":
        members = frozenset(value)
        return lambda v: not isinstance(v, list) and v in members
    if op == "not_in":
        members = frozenset(value)
        return lambda v: v is not None and not isinstance(v, list) and v not in members
    if op == "exists":
        return lambda v: v is not None and v != "" and v is not False
    return lambda v: v is None or v == "" or v is False  # missing
