"""Consent per purpose and suppressed identifiers (docs/domain.md §13): pure, keyed by customer.

A customer's state (``empty()``, kept in the profile under ``consent``) holds every consent decision
and every suppression fact, sorted by event time then log position. From them:

- the decision in force per purpose is the latest by event time (ties: the later log position);
  a late event takes its place in history and changes only what came after it;
- the history is a list of intervals ``[valid_from, valid_to)`` per purpose, so any event can be
  joined to the consent in force at its ``occurred_at``; a consent with ``expires_at`` ends there
  and an ``expired`` interval (not granted) follows until the next decision; the last interval is
  open (``valid_to`` = ``OPEN_END``);
- a suppression is per identifier (email, phone, user id) and purpose (or ``all``); the latest
  suppress / unsuppress by event time wins.

A merge (``combine``) unites both customers' decisions and facts; the rules above then decide, so
the result does not depend on which customer heard of a decision first. Purposes without any
decision follow the configured default, applied where consent is read (``cdp.consent``), so a
changed default needs no rebuild.
"""

import bisect
from typing import NamedTuple

from projections.touchpoint import Touchpoint, to_ms
from schemas.envelope import LATEST
from schemas.payloads.consent import CONSENT_EVENT_TYPES, SUPPRESSED_IDENTIFIERS

OPEN_END = int(LATEST.timestamp() * 1000)  # valid_to of the interval still in force
EXPIRED = "expired"

State = dict[str, list]


class Decision(NamedTuple):
    ms: int
    position: int
    purpose: str
    granted: bool
    cause: str  # the event type
    source_kind: str
    source_name: str
    channel: str
    legal_basis: str
    wording_version: str
    expires_ms: int | None


class Interval(NamedTuple):
    purpose: str
    valid_from: int
    valid_to: int
    granted: bool
    cause: str  # the decision's event type, or "expired"
    position: int  # log position of the deciding event
    source_kind: str
    source_name: str
    channel: str
    legal_basis: str
    wording_version: str


class Suppression(NamedTuple):
    ms: int
    position: int
    identifier: str  # type:value
    purpose: str  # a purpose or "all"
    suppressed: bool
    reason: str
    source_name: str
    note: str


def empty() -> State:
    return {"decisions": [], "suppressions": [], "intervals": []}  # intervals: as last written, to diff against


def record(state: State, tp: Touchpoint) -> None:
    """Folds one event in; events of other types are ignored."""
    event = tp.event
    event_type = event["event_type"]
    if event_type not in CONSENT_EVENT_TYPES:
        return
    ms, props = to_ms(event["occurred_at"]), event["properties"]
    if event_type.startswith("identifier_"):
        suppressed = event_type == "identifier_suppressed"
        for kind in SUPPRESSED_IDENTIFIERS:
            value = event["identifiers"].get(kind)
            if value is not None:
                fact = Suppression(ms, tp.position, f"{kind}:{value}", props["purpose"], suppressed, props["reason"], event["source_name"], props.get("note") or "")
                bisect.insort(state["suppressions"], list(fact), key=_ms_pos)
        return
    choices = props["preferences"] if event_type == "consent_preferences_updated" else {props["purpose"]: event_type == "consent_given"}
    expires = props.get("expires_at")
    for purpose, granted in sorted(choices.items()):
        decision = Decision(
            ms, tp.position, purpose, granted, event_type, event["source_kind"], event["source_name"], props.get("channel") or "",
            props.get("legal_basis") or "", props.get("wording_version") or "", to_ms(expires) if expires and granted else None,
        )  # fmt: skip
        bisect.insort(state["decisions"], list(decision), key=_ms_pos)


def combine(survivor: State, absorbed: State) -> None:
    """Folds a merged-away customer's facts into the survivor's (the survivor's written intervals stay, to diff against)."""
    for facts in ("decisions", "suppressions"):
        survivor[facts] = sorted(survivor[facts] + absorbed[facts], key=_ms_pos)


def current(state: State) -> dict[str, Decision]:
    """Purpose → the decision in force now: the latest by event time."""
    return {d.purpose: d for d in map(Decision._make, state["decisions"])}


def intervals(state: State) -> list[Interval]:
    """The consent history per purpose as adjoining intervals, ordered by purpose then time."""
    by_purpose: dict[str, list[Decision]] = {}
    for d in map(Decision._make, state["decisions"]):
        by_purpose.setdefault(d.purpose, []).append(d)
    result = []
    for purpose, decisions in sorted(by_purpose.items()):
        for d, after in zip(decisions, [*decisions[1:], None], strict=True):
            end = OPEN_END if after is None else after.ms
            details = (d.position, d.source_kind, d.source_name, d.channel, d.legal_basis, d.wording_version)
            lapse = d.expires_ms if d.expires_ms is not None and d.expires_ms < end else None
            result.append(Interval(purpose, d.ms, end if lapse is None else max(d.ms, lapse), d.granted, d.cause, *details))
            if lapse is not None:
                result.append(Interval(purpose, max(d.ms, lapse), end, False, EXPIRED, *details))
    return result


def suppressions(state: State) -> dict[tuple[str, str], Suppression]:
    """(identifier, purpose) → the latest suppress or unsuppress fact by event time."""
    return {(s.identifier, s.purpose): s for s in map(Suppression._make, state["suppressions"])}


def diff_intervals(state: State) -> tuple[list[Interval], list[Interval]]:
    """(intervals to retract, intervals to write) since the last call; remembers what is now written."""
    before = {interval_key(i): i for i in map(Interval._make, state["intervals"])}
    after = {interval_key(i): i for i in intervals(state)}
    state["intervals"] = [list(i) for i in after.values()]
    return [i for k, i in before.items() if k not in after], [i for k, i in after.items() if before.get(k) != i]


def interval_key(i: Interval) -> tuple[str, int, int]:
    return i.purpose, i.valid_from, i.position


def _ms_pos(fact: list) -> tuple[int, int]:
    return fact[0], fact[1]

