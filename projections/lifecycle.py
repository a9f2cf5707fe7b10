"""Lifecycle stage (客户生命周期) as a pure function of a customer's facts and an "as of" time.

The stage history is replayed in event time, so it does not depend on how events were batched
or on the order late events arrived in: a late purchase rewrites history as if it had come on
time. Time-driven changes (no purchase for a while, no interaction, a complaint past its SLA) fire
at the moment they become true, never later than ``as_of`` — no wall clock is read here.

Every known customer has a stage. "Known" (docs/domain.md §7, prospect: "known, no purchase yet") means
the platform holds at least one event of the customer, whatever its type: an ``identify`` call, a
consent change or a page view by an anonymous visitor all make a profile, and its owner is a
``prospect`` from that first event (``Facts.first_seen``, the transition's cause names its type)
until the first purchase makes them ``new``.
"""

from bisect import bisect_right
from itertools import groupby
from operator import itemgetter
from dataclasses import dataclass
from statistics import median
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from projections.causes import Cause, cause, english
from projections.predictive import alive

Stage = Literal["prospect", "new", "repeat", "loyal", "at_risk", "churned", "won_back"]
STAGES: tuple[Stage, ...] = ("prospect", "new", "repeat", "loyal", "at_risk", "churned", "won_back")

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class PAliveStages(BaseModel):
    """Optional stages from predicted value (README "Predictions"): a customer is also ``at_risk``, or
    ``churned``, once the pinned model's P(alive) falls below a threshold. The model's parameters
    are pinned here, copied from ``cdp value fit``, so the stages depend only on the events and this
    configuration: a refit changes nothing until its parameters are pinned (then rebuild)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_version: str = Field(min_length=1, max_length=64, description="The fit's model_version (shown in each stage's cause).")
    purchase_model: Literal["bgnbd", "mbgnbd"] = Field(description="The fit's purchase_model.")
    r: float = Field(gt=0, description="The fit's r.")
    alpha: float = Field(gt=0, description="The fit's alpha.")
    a: float = Field(gt=0, description="The fit's a.")
    b: float = Field(gt=0, description="The fit's b.")
    at_risk_below: float = Field(0.5, gt=0, lt=1, description="At risk while P(alive) is below this.")
    churned_below: float = Field(0.2, gt=0, lt=1, description="Churned while P(alive) is below this.")

    @model_validator(mode="after")
    def _ordered(self) -> "PAliveStages":
        if self.churned_below > self.at_risk_below:
            raise ValueError(f"churned_below ({self.churned_below}) must not exceed at_risk_below ({self.at_risk_below})")
        return self

    def p_alive(self, purchase_days: list[int], today: int) -> float:
        """P(alive) on day ``today`` of a customer who bought on ``purchase_days`` (sorted, distinct,
        days since the epoch, UTC), counted as the value service counts them for a fit."""
        x, t_x, age = len(purchase_days) - 1, purchase_days[-1] - purchase_days[0], today - purchase_days[0]
        try:
            return alive.BY_MODEL[self.purchase_model](self.r, self.alpha, self.a, self.b, x, t_x, age)
        except OverflowError:  # the odds of having dropped out outgrow a float: as good as gone
            return 0.0

    def day_below(self, threshold: float, purchase_days: list[int], after: int) -> int | None:
        """The first day after ``after`` on which P(alive) is below ``threshold``, within a century;
        P(alive) only falls as days pass without a purchase, so a binary search finds it."""
        low, high = after + 1, after + 36_500
        if self.p_alive(purchase_days, high) >= threshold:
            return None
        while low < high:
            middle = (low + high) // 2
            if self.p_alive(purchase_days, middle) < threshold:
                high = middle
            else:
                low = middle + 1
        return low


class LifecycleRules(BaseModel):
    """Thresholds of docs/domain.md §7; every one can be changed in configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    loyal_min_purchases: int = Field(4, gt=0, description="Purchases within the loyalty window that make a customer loyal.")
    loyal_window_days: int = Field(365, gt=0, description="The loyalty window, in days.")
    promoter_min_score: int = Field(9, ge=0, le=10, description="NPS answer at or above which a repeat buyer counts as loyal.")
    detractor_max_score: int = Field(6, ge=0, le=10, description="NPS answer at or below which a buyer is at risk.")
    at_risk_interval_multiplier: float = Field(2.0, gt=0, description="At risk after this many usual purchase intervals without a purchase.")
    at_risk_default_days: int = Field(90, gt=0, description="At risk after this many days without a purchase when no usual interval is known (one purchase).")
    complaint_sla_hours: int = Field(24, gt=0, description="A complaint still unresolved this long after it opened puts its customer at risk.")
    churn_inactive_days: int = Field(180, gt=0, description="Churned after this many days with no meaningful interaction.")
    p_alive: PAliveStages | None = Field(None, description="Off by default: stages stay rule-based. When set, P(alive) thresholds of a pinned model also make a customer at risk or churned.")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the lifecycle depends on, each list sorted by (time in ms, log position)."""

    purchases: list[tuple[int, int]]  # (ms, position)
    activity: list[int]  # ms of every meaningful interaction
    nps: Sequence[Sequence]  # (ms, position, score) each
    tickets: Sequence[Sequence]  # (ms, position, ticket id, action, is complaint) each
    first_seen: tuple[int, tuple[str, ...]] | None = None  # (ms, event types) of the customer's first event: known from then on


@dataclass(frozen=True, slots=True)
class Transition:
    at: int  # ms
    from_stage: Stage | None
    to_stage: Stage
    why: Cause

    @property
    def cause(self) -> str:
        return english(self.why)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    stage: Stage | None
    since: int | None
    why: Cause | None
    transitions: list[Transition]
    next_check: int | None  # the next moment a stage could change with no new event

    @property
    def cause(self) -> str:
        return "" if self.why is None else english(self.why)


class _Replay:
    """The customer as known at one moment of event time."""

    def __init__(self, rules: LifecycleRules, complaint_tickets: set[str]):
        self.rules = rules
        self.complaint_tickets = complaint_tickets
        self.purchases: list[int] = []  # in time order
        self.gap_limit = purchase_gap_limit([], rules)  # of ``purchases``: kept, as every stage and check reads it
        self.last_activity: int | None = None
        self.last_nps: int | None = None
        self.open_complaints: dict[str, int] = {}
        self.won_back = False
        self.churned_since_purchase = False
        self.first_event: tuple[str, ...] = ()

    def settled(self, stage: Stage) -> None:
        if stage == "churned":
            self.churned_since_purchase = True

    def apply(self, kind: str, ms: int, value: tuple) -> None:
        if kind == "known":
            self.first_event = value
        elif kind == "activity":
            self.last_activity = ms if self.last_activity is None else max(self.last_activity, ms)
        elif kind == "purchase":
            self.won_back = self.churned_since_purchase
            self.churned_since_purchase = False
            self.purchases.append(ms)
            self.gap_limit = purchase_gap_limit(self.purchases, self.rules)
        elif kind == "nps":
            self.last_nps = value[0]
        elif kind == "ticket":
            ticket, action = value
            if ticket in self.complaint_tickets:
                if action in ("opened", "reopened"):
                    self.open_complaints[ticket] = ms
                elif action == "resolved":
                    self.open_complaints.pop(ticket, None)

    def purchase_gap_limit(self) -> int:
        return self.gap_limit

    def stage(self, now: int) -> tuple[Stage, Cause]:
        rules = self.rules
        if not self.purchases:
            return "prospect", cause("prospect_first_event", events=", ".join(self.first_event)) if self.first_event else cause("prospect")
        if self.last_activity is not None and now - self.last_activity >= rules.churn_inactive_days * DAY_MS:
            return "churned", cause("inactive", days=rules.churn_inactive_days)
        if rules.p_alive is not None and (below := self.alive_below(rules.p_alive.churned_below, now)):
            return "churned", below
        risk = self.risk(now)
        if risk:
            return "at_risk", risk
        if self.won_back:
            return "won_back", cause("won_back")
        recent = self.purchases_in_window(now)
        if recent >= rules.loyal_min_purchases:
            return "loyal", cause("loyal_purchases", purchases=recent, days=rules.loyal_window_days)
        if len(self.purchases) >= 2 and self.last_nps is not None and self.last_nps >= rules.promoter_min_score:
            return "loyal", cause("loyal_promoter", nps=self.last_nps)
        if len(self.purchases) >= 2:
            return "repeat", cause("repeat", purchases=len(self.purchases))
        return "new", cause("first_purchase")

    def risk(self, now: int) -> Cause | None:
        rules = self.rules
        gap = self.purchase_gap_limit()
        if now - self.purchases[-1] >= gap:
            return cause("no_purchase_for", days=gap // DAY_MS)
        if rules.p_alive is not None and (below := self.alive_below(rules.p_alive.at_risk_below, now)):
            return below
        if self.last_nps is not None and self.last_nps <= rules.detractor_max_score:
            return cause("detractor", nps=self.last_nps)
        sla = rules.complaint_sla_hours * HOUR_MS
        late = sorted(t for t, opened in self.open_complaints.items() if now - opened >= sla)
        if late:
            return cause("complaint_past_sla", ticket=late[0], hours=rules.complaint_sla_hours)
        return None

    def alive_below(self, threshold: float, now: int) -> Cause | None:
        """The cause when P(alive) is below ``threshold`` at ``now``, else None."""
        pinned = self.rules.p_alive
        probability = pinned.p_alive(self.purchase_days(), now // DAY_MS)
        return cause("p_alive_below", p_alive=round(probability, 3), threshold=threshold, model=pinned.model_version) if probability < threshold else None

    def purchase_days(self) -> list[int]:
        return sorted({ms // DAY_MS for ms in self.purchases})

    def purchases_in_window(self, now: int) -> int:
        start = now - self.rules.loyal_window_days * DAY_MS
        return bisect_right(self.purchases, now) - bisect_right(self.purchases, start)

    def checks_after(self, now: int) -> list[int]:
        """Moments after ``now`` at which the stage may change without a new fact (the earliest of
        each kind: only the first is waited for)."""
        if not self.purchases:
            return []
        rules = self.rules
        moments = [self.purchases[-1] + self.purchase_gap_limit()]
        if self.last_activity is not None:
            moments.append(self.last_activity + rules.churn_inactive_days * DAY_MS)
        sla = rules.complaint_sla_hours * HOUR_MS
        moments.extend(opened + sla for opened in self.open_complaints.values())
        window = rules.loyal_window_days * DAY_MS
        leaving = bisect_right(self.purchases, now - window)  # the first purchase still inside the window: the next to leave it
        if leaving < len(self.purchases):
            moments.append(self.purchases[leaving] + window)
        if rules.p_alive is not None:
            days = self.purchase_days()
            for threshold in (rules.p_alive.at_risk_below, rules.p_alive.churned_below):
                day = rules.p_alive.day_below(threshold, days, now // DAY_MS)
                if day is not None:
                    moments.append(day * DAY_MS)
        return [m for m in moments if m > now]


def purchase_gap_limit(purchases: list[int], rules: LifecycleRules) -> int:
    """How long (ms) after the last of ``purchases`` (sorted ms) a customer counts as at risk."""
    if len(purchases) < 2:
        return rules.at_risk_default_days * DAY_MS
    intervals = [b - a for a, b in zip(purchases, purchases[1:], strict=False)]
    usual = max(median(intervals), DAY_MS)
    return int(rules.at_risk_interval_multiplier * usual)


def lifecycle(facts: Facts, as_of: int, rules: LifecycleRules) -> Lifecycle:
    """Replays the facts up to ``as_of`` (ms) and returns every stage change with its cause."""
    complaint_tickets = {ticket for _, _, ticket, action, is_complaint in facts.tickets if action == "opened" and is_complaint}
    replay = _Replay(rules, complaint_tickets)
    points = _points(facts, as_of)
    transitions: list[Transition] = []
    current: tuple[Stage, Cause] | None = None

    def settle(now: int) -> None:
        nonlocal current
        stage = replay.stage(now)
        replay.settled(stage[0])
        if current is None or stage[0] != current[0]:
            transitions.append(Transition(now, current[0] if current else None, stage[0], stage[1]))
        current = stage

    def run_checks_until(limit: int, now: int) -> None:
        pending = replay.checks_after(now)
        while pending:
            moment = min(pending)
            if moment > limit:
                return
            settle(moment)
            pending = replay.checks_after(moment)

    last = None
    for ms, group in groupby(points, key=itemgetter(0)):
        if last is not None:
            run_checks_until(ms, last)
        for _, kind, value in group:
            replay.apply(kind, ms, value)
        settle(ms)
        last = ms
    if last is not None:
        run_checks_until(as_of, last)
    pending = replay.checks_after(as_of) if last is not None else []
    if current is None:
        return Lifecycle(None, None, None, [], None)
    return Lifecycle(current[0], transitions[-1].at, current[1], transitions, min(pending) if pending else None)


def _points(facts: Facts, as_of: int) -> list[tuple[int, str, tuple]]:
    """Every fact up to ``as_of`` in time order: at one moment, what the customer did (known,
    activity) before the facts it brought, and those in log order. One sort of the sorted streams
    put end to end (each is a run the sort merges; a tie keeps the streams' order)."""
    known = [facts.first_seen] if facts.first_seen is not None else []
    points = [(ms, 0, -2, "known", types) for ms, types in known]
    points += [(ms, 0, -1, "activity", ()) for ms in facts.activity]
    points += [(ms, 1, pos, "purchase", ()) for ms, pos in facts.purchases]
    points += [(ms, 1, pos, "nps", (score,)) for ms, pos, score in facts.nps]
    points += [(ms, 1, pos, "ticket", (ticket, action)) for ms, pos, ticket, action, _ in facts.tickets]
    points.sort()
    return [(ms, kind, value) for ms, _, _, kind, value in points if ms <= as_of]
