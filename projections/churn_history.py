"""Churn warnings over time: every change of a customer's churn-risk level, replayed in event time,
so that warnings can be checked afterwards against who churned (docs/domain.md §11).

The level at a moment is ``churn_risk`` on the facts known by then, never on later ones. It can
change only when a fact arrives (a purchase, a ticket action, an NPS answer, negative feedback, an
interaction after a quiet spell) or when time passes a moment ``churn_risk`` names (its
``next_change``), so the replay evaluates exactly those moments, up to ``as_of``. Like the lifecycle
history it depends on the facts only, not on how they were batched: a late event rewrites it from
its time on. The level being constant between those moments, a replay may start at any moment
(``since``) from the changes before it: each batch replays only from its earliest event, or from
where the last replay stopped.

Every customer starts ``low`` (no sign present); a change is stored as
``[at ms, from level, to level, score, [signs], [reasons], [reasons' parameters]]`` (each sign is
its reason's code, projections/causes.py). A rise to ``medium`` or ``high`` is a
warning raised.
"""

import bisect
from operator import itemgetter

from projections.churn import LEVELS, ChurnFacts, ChurnRules, level_of, risk_of, score_of, signs
from projections.lifecycle import DAY_MS, LifecycleRules

INITIAL_LEVEL = "low"
_MS = itemgetter(0)


def level_changes(profile: dict, as_of: int, rules: ChurnRules, lifecycle: LifecycleRules, written: list[list] = (), since: int | None = None) -> list[list]:
    """Every level change of the customer up to ``as_of`` (ms), oldest first. ``written``: the changes
    a replay gave before, still true before ``since`` (ms, at most ``as_of``); None: replay from the first fact."""
    changes = [c for c in written if c[0] < since] if since is not None else []
    moments = sorted(m for m in _fact_moments(profile, rules, since) if m <= as_of)
    level, pending = changes[-1][2] if changes else INITIAL_LEVEL, None
    facts = ChurnFacts.of(profile)

    def settle(now: int) -> int | None:
        nonlocal level
        reasons, next_change = signs(facts, now, now, rules, lifecycle)
        if level_of(score_of(reasons), rules) != level:  # worded only when the level changes
            risk = risk_of(reasons, next_change, rules)
            changes.append([now, level, risk.level, risk.score, list(risk.signs), risk.reasons, [c.params for c in risk.causes]])
            level = risk.level
        return next_change

    if since is not None:
        pending = settle(since)
    for moment in moments:
        while pending is not None and pending < moment:
            pending = settle(pending)
        pending = settle(moment)
    while pending is not None and pending <= as_of:
        pending = settle(pending)
    return changes


def is_warning(change: list) -> bool:
    """A rise of the level (to medium or high)."""
    return LEVELS.index(change[2]) > LEVELS.index(change[1])


def _fact_moments(profile: dict, rules: ChurnRules, since: int | None) -> set[int]:
    """When a fact after ``since`` (None: any) may change the level: each purchase, ticket action, NPS
    answer and negative text, and each interaction that ends a quiet spell (or is the first); the
    times after them come from ``churn_risk``'s ``next_change``. Each list is sorted by time, so
    the facts before ``since`` are skipped by bisection."""
    quiet = rules.quiet_days * DAY_MS
    activity = profile["activity"]
    first = 0 if since is None else bisect.bisect_right(activity, since)
    moments = {activity[i] for i in range(first, len(activity)) if i == 0 or activity[i] - activity[i - 1] >= quiet}
    for key in ("purchases", "tickets", "nps", "sentiments"):
        facts = profile[key]
        after = facts[0 if since is None else bisect.bisect_right(facts, since, key=_MS) :]
        moments.update(fact[0] for fact in after if key != "sentiments" or fact[3] == "negative")
    return moments
