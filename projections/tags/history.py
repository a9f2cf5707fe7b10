"""A customer's tags replayed in event time: which tags held when, and what changed.

The tags are evaluated at the end of every day (UTC) with events from ``start``'s day on, and at
every moment a time window or a "days since" threshold may flip a tag, up to ``as_of``. So a tag
gained and lost within one day leaves no trace; everything else is recorded at the day's end or at
the exact moment a window elapsed. ``as_of``'s own day is evaluated as it stands at ``as_of`` but
recorded at the day's end, like every other day: what is recorded never depends on when it was
evaluated (between two flips the tags cannot change without an event, which re-evaluates the
day), so the scale-out workers, which see an absorbed customer's history later than the embedded
runner, record the same. History before ``start``'s
day is kept (it depends only on facts before it), so a batch costs only its own days, and a late
event replays from its own day. The result is the same however the events were batched.
"""

from bisect import bisect_left
from dataclasses import dataclass
from operator import itemgetter

from projections.tags.compiler import CompiledTags
from projections.tags.features import DAY_MS, Context

_AT = itemgetter(0)


@dataclass(frozen=True, slots=True)
class TagReplay:
    current: dict[str, int]  # tag → since (ms)
    history: list[list]  # [at, tag, 1 added | 0 removed], sorted
    written: list[list]  # history entries that are new
    retracted: list[list]  # history entries no longer true
    next_check: int | None


def replay(history: list[list], start: int, event_times: list[list[int]], ctx: Context, compiled: CompiledTags, as_of: int) -> TagReplay:
    """``history``: the stored entries; ``start``: the earliest moment that may have changed;
    ``event_times``: the customer's event times, each list sorted."""
    start -= start % DAY_MS
    cut = bisect_left(history, start, key=_AT)  # history is sorted
    kept = history[:cut]
    current: dict[str, int] = {}
    for at, tag, added in kept:
        if added:
            current[tag] = at
        else:
            current.pop(tag, None)
    own_day_end = as_of - as_of % DAY_MS + DAY_MS - 1
    moments = sorted({t - t % DAY_MS + DAY_MS - 1 for times in event_times for t in times[bisect_left(times, start) :]})
    entries: list[list] = []
    flip = compiled.next_change(ctx, start - 1) if ctx.first_seen is not None and ctx.first_seen < start else None
    next_check = None
    features = compiled.reader(ctx)
    values, sat = None, None
    i = 0
    while True:
        if flip is not None and flip > as_of:  # not yet: the first time-driven change after as_of is when to look again
            next_check, flip = flip, None
        m = moments[i] if i < len(moments) else None
        if flip is not None and (m is None or flip < m):
            m = flip
        if m is None or m > own_day_end:
            break
        now_values = features(min(m, as_of))  # as_of's own day: as it stands at as_of, recorded at the day's end
        if now_values != values:  # the rules are evaluated only when a feature they read changed
            values, now_sat = now_values, compiled.satisfied(now_values)
            if now_sat != sat:  # and the tags held only when a condition's outcome changed (else ``current`` holds them already)
                sat, tags = now_sat, compiled.held(now_sat)
                now = set(tags)
                for tag in sorted(current.keys() - now):
                    entries.append([m, tag, 0])
                    del current[tag]
                for tag in tags:
                    if tag not in current:
                        entries.append([m, tag, 1])
                        current[tag] = m
        while i < len(moments) and moments[i] <= m:
            i += 1
        if m <= as_of:
            flip = compiled.next_change(ctx, m)
    old = {tuple(e) for e in history[cut:]}
    new = [tuple(e) for e in entries]
    return TagReplay(
        current=current,
        history=kept + entries,
        written=[e for e, t in zip(entries, new, strict=True) if t not in old],
        retracted=[list(e) for e in sorted(old.difference(new))],
        next_check=next_check,
    )
