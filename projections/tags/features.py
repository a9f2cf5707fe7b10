"""What tag rules can read: features of one customer as of a moment ``t`` (ms), from its facts.

Every feature is a pure function of the facts up to ``t``, so a tag's history can be replayed in
event time and does not depend on batching. ``Context`` indexes one customer's facts once (sorted
lists, prefix sums); each feature then costs a binary search.
"""

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

DAY_MS = 86_400_000
REACHABLE_TYPES = ("email", "phone", "social")

# feature → kind: "window" (count or sum over an optional window), "latest" (value of the latest
# fact at t), "elapsed" (days since a moment), "now" (changes only when an event arrives)
FEATURES: dict[str, str] = {
    "orders": "window", "revenue": "window", "referrals": "window", "interactions": "window", "tickets": "window",
    "complaints": "window", "negative_feedback": "window",
    "repurchases": "now", "open_complaints": "now", "tier": "now", "reachable": "now", "enterprise": "now",
    "last_nps": "latest", "last_csat": "latest", "lifecycle_stage": "latest",
    "days_since_last_activity": "elapsed", "days_since_last_purchase": "elapsed", "days_since_first_seen": "elapsed",
}
WINDOWED = tuple(name for name, kind in FEATURES.items() if kind == "window")


def feature_kind(name: str) -> str | None:
    if name.startswith("events."):
        return "window"
    if name.startswith("trait."):
        return "latest"
    return FEATURES.get(name)


@dataclass(slots=True)
class Series:
    times: list[int]
    prefix: list[float] | None = None  # running sums for "revenue"

    def total(self, t: int, window: int | None) -> float:
        end = bisect.bisect_right(self.times, t)
        start = 0 if window is None else bisect.bisect_right(self.times, t - window)
        if self.prefix is None:
            return end - start
        return round(self.prefix[end] - self.prefix[start], 6)

    def next_drop(self, t: int, window: int) -> int | None:
        """When the earliest fact inside the window leaves it."""
        start = bisect.bisect_right(self.times, t - window)
        return self.times[start] + window if start < bisect.bisect_right(self.times, t) else None


@dataclass(slots=True)
class Latest:
    times: list[int]
    values: list[Any]

    def at(self, t: int) -> Any:
        i = bisect.bisect_right(self.times, t)
        return self.values[i - 1] if i else None

    def next_change(self, t: int) -> int | None:
        i = bisect.bisect_right(self.times, t)
        return self.times[i] if i < len(self.times) else None


@dataclass(slots=True)
class Context:
    """One customer's facts, indexed for questions "as of t"."""

    series: dict[str, Series]
    latest: dict[str, Latest]
    first_seen: int | None
    reachable_since: int | None
    enterprise_since: int | None
    complaint_changes: list[tuple[int, str, str]]  # (ms, ticket, action) of complaint tickets
    tier_of: Callable[[int, float, int], str]  # (repurchases, amount, referrals) → tier

    def total(self, name: str, t: int, window: int | None = None) -> float:
        series = self.series.get(name)
        return 0 if series is None else series.total(t, window)

    def last_before(self, name: str, t: int) -> int | None:
        times = self.series[name].times
        i = bisect.bisect_right(times, t)
        return times[i - 1] if i else None


def context(
    profile: dict, stage_times: list[int], stages: list[str], joins: Callable[[str], bool], tier_of: Callable[[int, float, int], str], reads: frozenset[str] | None = None
) -> Context:
    """Indexes a profile's facts (see ``projections.profile``); ``joins`` tells reachable identifiers from blocked ones.
    ``reads``: the features the rules read, when known: of the open families (``events.*``, ``trait.*``,
    one series per event type or trait the customer has) only those are indexed; None: all."""
    purchases = profile["purchases"]
    tickets = profile["tickets"]
    complaints = {t for t, info in profile["ticket_info"].items() if info[4]}
    series = {
        "orders": Series([p[0] for p in purchases]),
        "revenue": Series([p[0] for p in purchases], [0.0, *accumulate(p[2] for p in purchases)]),
        "referrals": Series([r[0] for r in profile["referrals"]]),
        "interactions": Series(profile["activity"]),
        "tickets": Series([t[0] for t in tickets if t[3] == "opened"]),
        "complaints": Series([t[0] for t in tickets if t[3] == "opened" and t[2] in complaints]),
        "negative_feedback": Series([s[0] for s in profile["sentiments"] if s[3] == "negative"]),
        **{f"events.{event_type}": Series(times) for event_type, times in profile["times"].items() if reads is None or f"events.{event_type}" in reads},
    }
    latest = {
        "last_nps": Latest([n[0] for n in profile["nps"]], [n[2] for n in profile["nps"]]),
        "last_csat": Latest([c[0] for c in profile["csat"]], [c[2] for c in profile["csat"]]),
        "lifecycle_stage": Latest(stage_times, stages),
        **{
            f"trait.{name}": Latest([h[0] for h in history], [h[2] for h in history])
            for name, history in profile["trait_history"].items()
            if reads is None or f"trait.{name}" in reads
        },
    }
    seen = profile["id_seen"]
    reachable = [ms for key, ms in seen.items() if key.split(":", 1)[0] in REACHABLE_TYPES and joins(key)]
    accounts = [ms for key, ms in seen.items() if key.startswith("account_id:")]
    changes = [(t[0], t[2], t[3]) for t in tickets if t[2] in complaints]
    return Context(series, latest, profile["first_seen"], min(reachable, default=None), min(accounts, default=None), changes, tier_of)


def reader(ctx: Context, name: str, window: int | None) -> Callable[[int], Any]:
    """A function giving ``ctx``'s feature ``name`` as of ``t``, over the last ``window`` ms when
    given; the facts it reads are looked up once, here, not at every moment a tag history evaluates."""
    kind = feature_kind(name)
    if kind == "window":
        series = ctx.series.get(name)
        return _zero if series is None else lambda t: series.total(t, window)
    if kind == "latest":
        latest = ctx.latest.get(name)
        return _none if latest is None else latest.at
    if kind == "elapsed":
        return lambda t: _days_since(_anchor(ctx, name, t), t)
    now = _NOW[name]
    return lambda t: now(ctx, t)


def _zero(t: int) -> int:
    return 0


def _none(t: int) -> None:
    return None


def _days_since(anchor: int | None, t: int) -> float | None:
    return None if anchor is None else (t - anchor) / DAY_MS


def anchor_at(ctx: Context, name: str, t: int) -> int | None:
    """For an elapsed feature: the moment its days are counted from."""
    return _anchor(ctx, name, t)


def _anchor(ctx: Context, name: str, t: int) -> int | None:
    if name == "days_since_first_seen":
        return ctx.first_seen if ctx.first_seen is not None and ctx.first_seen <= t else None
    return ctx.last_before("interactions" if name == "days_since_last_activity" else "orders", t)


def _open_complaints(ctx: Context, t: int) -> int:
    state: dict[str, bool] = {}
    for ms, ticket, action in ctx.complaint_changes:
        if ms > t:
            break
        if action in ("opened", "reopened"):
            state[ticket] = True
        elif action == "resolved":
            state[ticket] = False
    return sum(state.values())


def _tier(ctx: Context, t: int) -> str:
    orders = ctx.total("orders", t)
    return ctx.tier_of(max(int(orders) - 1, 0), ctx.total("revenue", t), int(ctx.total("referrals", t)))


_NOW: dict[str, Callable[[Context, int], Any]] = {
    "repurchases": lambda ctx, t: max(int(ctx.total("orders", t)) - 1, 0),
    "open_complaints": _open_complaints,
    "tier": _tier,
    "reachable": lambda ctx, t: ctx.reachable_since is not None and ctx.reachable_since <= t,
    "enterprise": lambda ctx, t: ctx.enterprise_since is not None and ctx.enterprise_since <= t,
}
