"""The trigger projection: (a customer's state, the batch's events, as of) → actions.

Each enabled trigger lists the causes its rule sees in the customer's state and the batch's
events: an event's log position ("p:<position>"), or for what happens in time the day and what
happened ("d:<date>:birthday", "d:<date>:lifecycle:loyal>at_risk", "d:<date>:tag:+vip"). A cause
fires when it is at or after the trigger's start, has happened by ``as_of`` and is not stale
(``late_days``); the action's id is ``derive_action_id`` of the rule, the customer and the cause,
so a rebuild derives the same ids and the outbox keeps one of each (docs/triggers.md).

What was decided is kept in the customer's state (``profile["triggers"]``): the causes seen per
trigger (sent, capped, or refused by the conditions, each decided once; a merge unites them) and what was sent per channel (for the
frequency caps), both pruned once no cause can reach back so far. Conditions are judged on the
state as of ``as_of``; quiet hours at the cause's own time in the customer's zone. Nothing here
reads a clock.
"""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from typing import Any, Protocol

from projections.actions import Action, derive_action_id
from projections.churn import LEVELS, ChurnRules, churn_risk
from projections.lifecycle import LifecycleRules
from projections.profile import Profile, ProfileRules
from projections.service import ServiceRules, tickets
from projections.touchpoint import Touchpoint
from projections.traits import computed_traits
from projections.triggers.calendar import DAY_MS, birthday, customer_zone, day_of, holiday_days, local_midnight, quiet_until, yearly_days
from projections.triggers.rules import (
    STAFF, BirthdayCause, ChurnCause, ComplaintCause, Conditions, EventCause, HolidayCause, LifecycleCause, RevisitCause, TagCause, TriggerRule, TriggerRules,
)  # fmt: skip
from projections.value import ValueRules, value


class Rules(Protocol):
    """The rules the triggers read (``projections.rules.ProjectionRules``, ``cdp.config.Settings``)."""

    triggers: TriggerRules
    lifecycle: LifecycleRules
    profile: ProfileRules
    value: ValueRules
    churn: ChurnRules
    service: ServiceRules


@dataclass(frozen=True, slots=True)
class Trigger:
    """An enabled rule: causes before ``start`` (ms) never fire."""

    name: str
    rule: TriggerRule
    start: int


@dataclass(frozen=True, slots=True)
class Derived:
    actions: list[Action]
    next_check: int | None  # the next moment a time-driven cause may fire with no new event


@dataclass(frozen=True, slots=True)
class _Cause:
    at: int  # ms
    trigger: Trigger
    cause: str
    detail: dict[str, Any]


def empty_state() -> dict:
    return {"seen": {}, "sent": []}  # "<trigger>|<cause>" → cause ms; [cause ms, channel] of actions sent


def absorb_state(survivor: Profile, absorbed: Profile) -> None:
    """A merged-away customer's decisions become the survivor's: a cause decided for either (the
    same birthday, the same event) is not decided again for the person they turned out to be."""
    if "triggers" not in absorbed:
        return
    state = survivor.setdefault("triggers", empty_state())
    state["seen"] = absorbed["triggers"]["seen"] | state["seen"]
    state["sent"] = sorted(state["sent"] + absorbed["triggers"]["sent"])


def derive(profile: Profile, triggers: Sequence[Trigger], events: Sequence[Touchpoint], as_of: int, rules: Rules) -> Derived:
    """The actions ``triggers`` call for on this customer, whose ``events`` this batch folded in.
    A forgotten customer (``customer_erased``) is never the subject of one."""
    if "erased" in profile["traits"]:
        return Derived([], None)
    settings = rules.triggers
    state = profile.setdefault("triggers", empty_state())
    zone = customer_zone(profile["traits"], settings)
    view = _View(profile, as_of, rules)
    horizon = as_of - settings.late_days * DAY_MS
    found: list[_Cause] = []
    checks: list[int] = []
    for trigger in triggers:
        causes, check = _causes(trigger, profile, events, as_of, zone, view, rules)
        found.extend(c for c in causes if max(trigger.start, horizon) <= c.at <= as_of)
        if check is not None:
            checks.append(check)
    actions = [a for c in sorted(found, key=lambda c: (c.at, c.trigger.name, c.cause)) if (a := _decide(c, profile, state, zone, view, settings)) is not None]
    _prune(state, horizon, settings)
    return Derived(actions, min(checks, default=None))


def _decide(found: _Cause, profile: Profile, state: dict, zone: tzinfo, view: "_View", settings: TriggerRules) -> Action | None:
    """The action for one cause, or None (seen before, conditions unmet, or over the channel's cap); decided once."""
    rule_name = f"trigger:{found.trigger.name}"
    customer = profile["customer_id"]
    cause = found.cause
    decided = f"{found.trigger.name}|{cause}"
    if decided in state["seen"]:
        return None
    state["seen"][decided] = found.at
    rule = found.trigger.rule
    if not view.holds(rule.where):
        return None
    send = rule.then
    route = send.by_preferred_channel.get(view.preferred_channel) if send.by_preferred_channel else None
    destination, channel = (route.destination, route.channel) if route else (send.destination, send.channel)
    cap = settings.frequency_caps.get(channel)
    if cap is not None and sum(1 for at, ch in state["sent"] if ch == channel and found.at - cap.days * DAY_MS < at <= found.at) >= cap.count:
        return None
    bisect.insort(state["sent"], [found.at, channel])
    not_before = None if channel == STAFF else quiet_until(found.at, zone, settings.quiet_hours)
    payload = {"trigger": found.trigger.name, "when": rule.when.kind, **found.detail}
    if rule.where.segment:
        payload["segment"] = rule.where.segment  # membership is checked at send time (and by a dry-run)
    return Action(
        action_id=derive_action_id(rule_name, customer, cause), rule=rule_name, customer_id=customer, destination=destination, template=send.template, channel=channel, purpose=send.purpose,
        cause=cause, cause_time=datetime.fromtimestamp(found.at / 1000, UTC), not_before=not_before, payload=payload,
    )  # fmt: skip


def _causes(trigger: Trigger, profile: Profile, events: Sequence[Touchpoint], as_of: int, zone: tzinfo, view: "_View", rules: Rules) -> tuple[list[_Cause], int | None]:
    """What the trigger's cause kind finds in the state, and when a time-driven one is next due."""
    when = trigger.rule.when

    def cause(at: int, text: str, **detail: Any) -> _Cause:
        return _Cause(at, trigger, text, detail)

    if isinstance(when, EventCause):
        return [cause(tp.occurred_ms, f"p:{tp.position}", event_type=when.event_type, position=tp.position) for tp in events if tp.event["event_type"] == when.event_type], None
    if isinstance(when, LifecycleCause):
        return [
            cause(at, f"d:{day_of(at)}:lifecycle:{before or ''}>{after}", from_stage=before, to_stage=after)
            for at, before, after, *_ in profile["lifecycle"]["transitions"]
            if after == when.to_stage and (when.from_stage is None or before == when.from_stage)
        ], None
    if isinstance(when, TagCause):
        added = when.change == "gained"
        sign = "+" if added else "-"
        return [cause(at, f"d:{day_of(at)}:tag:{sign}{tag}", tag=tag, change=when.change) for at, tag, flag in profile["derived"]["tag_history"] if tag == when.tag and bool(flag) == added], None
    if isinstance(when, RevisitCause):
        times = [(p[0] + when.days_after * DAY_MS, p[1]) for p in profile["purchases"]]
        return [cause(at, f"d:{day_of(at)}:revisit", purchase_position=pos, days_after=when.days_after) for at, pos in times], _next((at for at, _ in times), as_of)
    if isinstance(when, BirthdayCause | HolidayCause):
        if isinstance(when, BirthdayCause):
            born = birthday(profile["traits"], rules.triggers)
            days, part = (yearly_days(*born, when.days_before, as_of) if born else []), "birthday"
        else:
            days, part = holiday_days(rules.triggers.holidays[when.holiday], when.days_before, as_of), f"holiday:{when.holiday}"
        moments = [(local_midnight(day, zone), day) for day in days]
        return [cause(at, f"d:{day.isoformat()}:{part}", day=day.isoformat(), days_before=when.days_before) for at, day in moments], _next((at for at, _ in moments), as_of)
    if isinstance(when, ComplaintCause):
        return _past_sla(when, profile, as_of, rules, cause)
    if isinstance(when, ChurnCause):
        return _churn_raised(when, view, as_of, rules, cause)
    raise AssertionError(f"unhandled cause kind {when.kind}")


def _past_sla(when: ComplaintCause, profile: Profile, as_of: int, rules: Rules, cause) -> tuple[list[_Cause], int | None]:
    found, pending = [], []
    for ticket in tickets(profile, as_of, rules.service):
        if not ticket.is_complaint:
            continue
        due, done = (ticket.response_due, ticket.first_response_at) if when.sla == "response" else (ticket.resolution_due, ticket.resolved_at)
        if due <= as_of and (done is None or done > due):
            found.append(cause(due, f"d:{day_of(due)}:complaint:{ticket.ticket_id}:{when.sla}", ticket_id=ticket.ticket_id, sla=when.sla, priority=ticket.priority))
        elif done is None:
            pending.append(due)
    return found, min(pending, default=None)


def _churn_raised(when: ChurnCause, view: "_View", as_of: int, rules: Rules, cause) -> tuple[list[_Cause], int | None]:
    """Rises to ``to_level`` from one day end (UTC) to the next within the last ``late_days``; each
    day end is judged on the facts up to it, so the result does not depend on batching. Only the
    day ends where the level can move are judged: those after a new fact or a time-driven change."""
    target = LEVELS.index(when.to_level)
    last_end = _day_end(as_of - DAY_MS + 1)  # the last day that has ended
    end = last_end - (rules.triggers.late_days + 1) * DAY_MS
    level, moves = view.churn_level_at(end)
    found = []
    while moves is not None and _day_end(moves) <= last_end:
        end = _day_end(moves)
        before, (level, moves) = level, view.churn_level_at(end)
        if before < target <= level:
            found.append(cause(end, f"d:{day_of(end)}:churn:{when.to_level}", level=LEVELS[level]))
    return found, (None if moves is None else _day_end(moves))


class _View:
    """The customer's state as of ``as_of``, what the conditions ask computed only when asked."""

    def __init__(self, profile: Profile, as_of: int, rules: Rules):
        self.profile, self.as_of, self.rules = profile, as_of, rules
        self._levels: dict[int, tuple[int, int | None]] = {}

    @cached_property
    def tier(self) -> str:
        p = self.profile
        return value(p["purchases"], p["refunds"], len(p["referrals"]), self.as_of, self.rules.value).tier

    @cached_property
    def preferred_channel(self) -> str:
        return computed_traits(self.profile, self.rules.profile).preferred_channel

    def churn_level_at(self, t: int) -> tuple[int, int | None]:
        """The churn level's index in ``LEVELS`` at ``t`` from the facts up to ``t``, and the next
        moment it may move: its next time-driven change or the next fact, whichever comes first."""
        if t not in self._levels:
            facts = _facts_until(self.profile, t)
            risk = churn_risk(facts, t, self.rules.churn, self.rules.lifecycle)
            later = [self.profile[name][len(facts[name])] for name in _CHURN_FACTS if len(facts[name]) < len(self.profile[name])]
            moments = [m for m in (risk.next_change, *(f if isinstance(f, int) else f[0] for f in later)) if m is not None]
            self._levels[t] = (LEVELS.index(risk.level), min(moments, default=None))
        return self._levels[t]

    def holds(self, where: Conditions) -> bool:
        p = self.profile
        tags = p["derived"]["tags"]
        if where.stages and p["lifecycle"]["stage"] not in where.stages:
            return False
        if where.tiers and self.tier not in where.tiers:
            return False
        if where.churn_levels and LEVELS[self.churn_level_at(self.as_of)[0]] not in where.churn_levels:
            return False
        if not all(t in tags for t in where.tags_all) or (where.tags_any and not any(t in tags for t in where.tags_any)) or any(t in tags for t in where.tags_none):
            return False
        for name, wanted in where.traits.items():
            have = p["traits"].get(name, [None])[0]
            if have not in (wanted if isinstance(wanted, list) else [wanted]):
                return False
        return True


_CHURN_FACTS = ("purchases", "nps", "tickets", "sentiments", "activity")  # what churn risk reads, each sorted by time (activity: plain ms)


def _facts_until(profile: Profile, t: int) -> Profile:
    """The facts churn risk reads, as they stood at ``t``."""
    cut = {name: profile[name][: bisect.bisect_right(profile[name], t, key=lambda fact: fact[0])] for name in _CHURN_FACTS[:-1]}
    return {**profile, **cut, "activity": profile["activity"][: bisect.bisect_right(profile["activity"], t)]}


def _day_end(ms: int) -> int:
    """The last millisecond of ``ms``'s day (UTC)."""
    return ms - ms % DAY_MS + DAY_MS - 1


def _next(moments: Iterable[int], as_of: int) -> int | None:
    """The first of these moments after ``as_of``: when to look again."""
    return min((m for m in moments if m > as_of), default=None)


def _prune(state: dict, horizon: int, settings: TriggerRules) -> None:
    """Forgets what no cause can reach any more: ids older than the stale horizon, sends older than the longest cap."""
    state["seen"] = {k: at for k, at in state["seen"].items() if at >= horizon - DAY_MS}
    longest = max((cap.days for cap in settings.frequency_caps.values()), default=0) * DAY_MS
    state["sent"] = [s for s in state["sent"] if s[0] > horizon - longest]
