"""Churn early warning (客户流失预警): an explainable risk score with its reasons (docs/domain.md §11).

The score is the sum of the weights of the warning signs present as of ``as_of`` (capped at
100); every sign present is listed as a reason, so a score is never a black box. Signs: a purchase
gap past the customer's usual interval, falling purchase frequency, going quiet, a complaint
unresolved past its SLA, a recent complaint, a detractor NPS answer, recent negative feedback.
"""

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from projections.causes import WEIGHT, Cause, cause, english
from projections.lifecycle import DAY_MS, HOUR_MS, LifecycleRules, purchase_gap_limit

LEVELS = ("low", "medium", "high")


class ChurnRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    purchase_gap_weight: int = Field(30, ge=0, description="No purchase for longer than the at-risk gap of the lifecycle rules.")
    falling_frequency_weight: int = Field(20, ge=0, description="Fewer purchases in the last period than in the one before (at least 2 before).")
    frequency_period_days: int = Field(180, gt=0, description="The period compared for falling frequency.")
    quiet_weight: int = Field(15, ge=0, description="No meaningful interaction for quiet_days.")
    quiet_days: int = Field(60, gt=0, description="Days without interaction that count as going quiet.")
    complaint_past_sla_weight: int = Field(25, ge=0, description="A complaint still unresolved past the lifecycle complaint SLA.")
    recent_complaint_weight: int = Field(10, ge=0, description="A complaint opened within recent_days.")
    detractor_weight: int = Field(25, ge=0, description="Latest NPS answer is a detractor's.")
    negative_feedback_weight: int = Field(10, ge=0, description="Negative free text within recent_days.")
    recent_days: int = Field(90, gt=0, description="What counts as recent for complaints and negative feedback.")
    medium_from: int = Field(30, ge=0, le=100, description="Scores from here are medium risk.")
    high_from: int = Field(60, ge=0, le=100, description="Scores from here are high risk.")


@dataclass(frozen=True, slots=True)
class ChurnRisk:
    score: int
    level: str  # one of LEVELS
    reasons: list[str]
    next_change: int | None
    signs: tuple[str, ...] = ()  # the SIGNS present, by name (the reasons without their dates and numbers)
    causes: tuple[Cause, ...] = ()  # the reasons as codes (the SIGNS) with their numbers and weight: ``english`` words them


# the warning signs by name, in the order they are checked
SIGNS = ("purchase_gap", "falling_frequency", "quiet", "complaint_past_sla", "recent_complaint", "detractor", "negative_feedback")


def churn_risk(profile: dict, as_of: int, rules: ChurnRules, lifecycle: LifecycleRules) -> ChurnRisk:
    """The risk at ``as_of`` from every fact of ``profile``."""
    return risk_of(*signs(ChurnFacts.of(profile), as_of, None, rules, lifecycle), rules)


def risk_of(reasons: list[tuple[int, Cause]], next_change: int | None, rules: ChurnRules) -> ChurnRisk:
    """The risk ``signs`` found, worded."""
    score = score_of(reasons)
    weighed = tuple(Cause(c.code, {**c.params, WEIGHT: w}) for w, c in reasons if w)
    return ChurnRisk(score, level_of(score, rules), [english(c) for c in weighed], next_change, tuple(c.code for c in weighed), weighed)


def score_of(reasons: list[tuple[int, Cause]]) -> int:
    return min(100, sum(w for w, _ in reasons))


def level_of(score: int, rules: ChurnRules) -> str:
    return "high" if score >= rules.high_from else "medium" if score >= rules.medium_from else "low"


@dataclass(slots=True)
class ChurnFacts:
    """The facts ``churn_risk`` reads, indexed once: a replay in time (``projections.churn_history``)
    asks for the signs at many moments, each from the facts known by then, without copying them."""

    purchases: list[int]  # times, sorted, as every list here
    activity: list[int]
    tickets: list[list]  # [ms, position, ticket, action, ...]
    ticket_times: list[int]
    complaints: set[str]  # the tickets that are complaints
    nps: list[list]  # [ms, position, score]
    nps_times: list[int]
    negative: list[int]  # times of negative free text
    gap_limits: dict[int, int]  # purchase_gap_limit of the first n purchases, as asked

    @classmethod
    def of(cls, profile: dict) -> "ChurnFacts":
        tickets, nps = profile["tickets"], profile["nps"]
        return cls(
            [p[0] for p in profile["purchases"]], profile["activity"], tickets, [t[0] for t in tickets],
            {t for t, info in profile["ticket_info"].items() if info[4]}, nps, [n[0] for n in nps],
            [s[0] for s in profile["sentiments"] if s[3] == "negative"], {},
        )

    def gap_limit(self, n: int, lifecycle: LifecycleRules) -> int:
        if n not in self.gap_limits:
            self.gap_limits[n] = purchase_gap_limit(self.purchases[:n], lifecycle)
        return self.gap_limits[n]


def signs(facts: ChurnFacts, as_of: int, known_at: int | None, rules: ChurnRules, lifecycle: LifecycleRules) -> tuple[list[tuple[int, Cause]], int | None]:
    """The warning signs present at ``as_of`` as (weight, reason without its weight), and the next
    moment one may appear or go without a new fact: what a replay in time needs, unworded. Only the
    facts up to ``known_at`` count (None: all of them)."""

    def known(times: list[int]) -> int:
        return len(times) if known_at is None else bisect.bisect_right(times, known_at)

    reasons: list[tuple[int, Cause]] = []  # (weight, reason without its weight)
    moments: list[int] = []
    purchases = facts.purchases
    bought = known(purchases)
    if bought:
        last = purchases[bought - 1]
        gap = facts.gap_limit(bought, lifecycle)
        if as_of - last >= gap:
            reasons.append((rules.purchase_gap_weight, cause("purchase_gap", since=_day(last), days=gap // DAY_MS)))
        moments.append(last + gap)
        period = rules.frequency_period_days * DAY_MS
        recent, before = _count(purchases, as_of - period, as_of), _count(purchases, as_of - 2 * period, as_of - period)
        if before >= 2 and recent < before:
            reasons.append((rules.falling_frequency_weight, cause("falling_frequency", before=before, recent=recent, days=rules.frequency_period_days)))
        for span in (period, 2 * period):  # the first purchase to leave each period (the later ones leave later)
            leaving = bisect.bisect_right(purchases, as_of - span)
            if leaving < bought:
                moments.append(purchases[leaving] + span)
    active = known(facts.activity)
    if active:
        quiet = rules.quiet_days * DAY_MS
        last = facts.activity[active - 1]
        if as_of - last >= quiet:
            reasons.append((rules.quiet_weight, cause("quiet", since=_day(last), days=rules.quiet_days)))
        moments.append(last + quiet)
    recent_ms = rules.recent_days * DAY_MS
    open_since: dict[str, int] = {}
    opened_times = []
    for ms, _, ticket, action, *_ in facts.tickets[: known(facts.ticket_times)]:
        if ticket in facts.complaints:
            if action in ("opened", "reopened"):
                open_since[ticket] = ms
                opened_times.append(ms)
            elif action == "resolved":
                open_since.pop(ticket, None)
    sla = lifecycle.complaint_sla_hours * HOUR_MS
    late = sorted(t for t, ms in open_since.items() if as_of - ms >= sla)
    if late:
        reasons.append((rules.complaint_past_sla_weight, cause("complaint_past_sla", ticket=late[0], hours=lifecycle.complaint_sla_hours)))
    moments.extend(ms + sla for ms in open_since.values())
    if any(as_of - ms < recent_ms for ms in opened_times):
        reasons.append((rules.recent_complaint_weight, cause("recent_complaint", days=rules.recent_days)))
    moments.extend(ms + recent_ms for ms in opened_times)
    answered = known(facts.nps_times)
    if answered and facts.nps[answered - 1][2] <= lifecycle.detractor_max_score:
        reasons.append((rules.detractor_weight, cause("detractor", nps=facts.nps[answered - 1][2])))
    negative = facts.negative
    said = known(negative)
    if said and as_of - negative[said - 1] < recent_ms:  # the latest is the most recent
        reasons.append((rules.negative_feedback_weight, cause("negative_feedback", days=rules.recent_days)))
    fading = bisect.bisect_right(negative, as_of - recent_ms)  # the first still recent: the next to stop being so
    if fading < said:
        moments.append(negative[fading] + recent_ms)
    return reasons, min((m for m in moments if m > as_of), default=None)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def _count(times: list[int], after: int, until: int) -> int:
    return bisect.bisect_right(times, until) - bisect.bisect_right(times, after)
