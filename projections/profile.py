"""The unified profile (客户画像): everything known about one customer, across channels.

State is a plain JSON-able dict per customer (see ``empty_profile``). ``apply`` folds events in;
``absorb`` folds a merged-away customer's state in. Both are order-insensitive (counts add, sets
unite, traits keep the value with the latest event time, fact lists stay sorted), so the result
does not depend on batching, and a late event never overwrites a newer trait.
"""

import bisect
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from projections import consent
from projections.currency import CurrencyRules
from projections.lifecycle import Facts
from projections.sentiment import Sentiment, SentimentRules, sentiment
from projections.topics import TopicRules
from projections.touchpoint import Touchpoint, to_ms
from projections.trait_values import TraitNormalisation, default_trait_values
from schemas import ID_TYPES, SOURCE_KINDS
from schemas.payloads.consent import CONSENT_EVENT_TYPES
from schemas.payloads.messages import OUTBOUND_EVENT_TYPES
from schemas.payloads.privacy import CustomerErased
from schemas.payloads.sales import PURCHASE_EVENT_TYPES, PointsRedeemed

Profile = dict[str, Any]
_ONE_VALUED = tuple(t for t in ID_TYPES if t != "social")  # one value per event; social is a list of handles

PASSIVE_EVENT_TYPES = frozenset({"identified", "grouped", "aliased", *CONSENT_EVENT_TYPES, *OUTBOUND_EVENT_TYPES})  # identity and consent plumbing, messages sent to them: not interactions by the customer
TICKET_ACTIONS = {
    "ticket_opened": "opened",
    "ticket_first_responded": "responded",
    "ticket_escalated": "escalated",
    "ticket_resolved": "resolved",
    "ticket_reopened": "reopened",
}

FREE_TEXT = {"feedback_given": "text", "nps_answered": "comment", "csat_answered": "comment", "commented": "text", "mentioned": "text", "message_sent": "text"}


class ProfileRules(BaseModel):
    """How touchpoints feed the unified profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    referral_events: list[str] = Field(
        default=["referral_made", "friend_referred", "friend_invited"],
        description="Names of event_tracked events by which a customer refers someone (counted for value tiers and loyalty points).",
    )
    consent_trait_prefix: str = Field(
        default="consent_",
        description="Traits named with this prefix are consent flags per purpose or channel (consent_email = true); the latest by event time counts.",
    )
    sentiment: SentimentRules = SentimentRules()
    currency: CurrencyRules = Field(default=CurrencyRules(), description="The reporting currency purchases and refunds are converted to, and the loaded rates (projections.currency).")
    trait_values: TraitNormalisation = Field(
        default_factory=default_trait_values,
        description="Trait name → its canonical values (synonyms, shipped place tables, case folding); see projections.trait_values.",
    )
    topics: TopicRules = TopicRules()


def empty_profile(customer_id: str) -> Profile:
    return {
        "customer_id": customer_id,
        "ids": {t: [] for t in ID_TYPES},
        "traits": {},  # name → [value, ms, position]
        "first_seen": None,
        "last_seen": None,
        "by_source_kind": dict.fromkeys(SOURCE_KINDS, 0),
        "by_source": {},
        "by_event_type": {},
        "revenue": 0.0,
        "refunds": 0.0,
        "purchases": [],  # [ms, position, amount]
        "activity": [],  # ms of meaningful interactions, unique
        "nps": [],  # [ms, position, score]
        "tickets": [],  # [ms, position, ticket id, action, is complaint]
        "lifecycle": {"stage": None, "since": None, "cause": "", "transitions": []},
        "times": {},  # event type → ms of each event, sorted (behaviour in time windows)
        "id_seen": {},  # identifier (type:value) → ms it was first seen
        "trait_history": {},  # name → [ms, position, value] sorted
        "csat": [],  # [ms, position, score]
        "csi": [],  # [ms, position, {factor: score}]
        "sentiments": [],  # [ms, position, event type, label, score, [terms]] of free text
        "referrals": [],  # [ms, position]
        "redemptions": [],  # [ms, position, points] of loyalty points redeemed
        "ticket_info": {},  # ticket id → [position opened, channel, category, priority, is complaint]
        "consent": consent.empty(),  # decisions per purpose, suppressed identifiers (projections.consent)
        "derived": {"tags": {}, "tag_history": [], "tags_until": None, "digests": {}, "churn_changes": [], "churn_until": None},  # outputs kept to diff against
    }


class Said(NamedTuple):
    """An event's free text and what its sentiment analysis found."""

    text: str
    found: Sentiment


def apply(profile: Profile, tp: Touchpoint, rules: ProfileRules) -> Said | None:
    """Folds one event into the profile; returns its free text with its sentiment, if it has any,
    so the survey answer rows reuse it (the analysis is a large part of an event's cost)."""
    event = tp.event
    ms = to_ms(event["occurred_at"])
    _add_identifiers(profile["ids"], event["identifiers"])
    _note_identifiers(profile["id_seen"], event["identifiers"], ms)
    if event["event_type"] == CustomerErased.event_type:  # the customer was forgotten: a mark, not an interaction
        _set_trait(profile["traits"], "erased", [True, ms, tp.position])
        return None
    for name, sent in event["traits"].items():
        value = rules.trait_values.canonical(name, sent)
        _set_trait(profile["traits"], name, [value, ms, tp.position])
        bisect.insort(profile["trait_history"].setdefault(name, []), [ms, tp.position, value], key=_ms_pos)
    profile["first_seen"] = ms if profile["first_seen"] is None else min(profile["first_seen"], ms)
    profile["last_seen"] = ms if profile["last_seen"] is None else max(profile["last_seen"], ms)
    _count(profile["by_source_kind"], event["source_kind"])
    _count(profile["by_source"], event["source_name"])
    event_type = event["event_type"]
    _count(profile["by_event_type"], event_type)
    bisect.insort(profile["times"].setdefault(event_type, []), ms)
    props = event["properties"]
    consent.record(profile["consent"], tp)
    if event_type not in PASSIVE_EVENT_TYPES:
        _insert_unique(profile["activity"], ms)
    if event_type in PURCHASE_EVENT_TYPES:
        amount = rules.currency.converted(props["amount"], props["currency"], ms) or 0.0  # no rate: a purchase of no known amount (projections.currency)
        profile["revenue"] += amount
        bisect.insort(profile["purchases"], [ms, tp.position, amount])
    elif event_type == "order_refunded":
        profile["refunds"] += rules.currency.converted(props["amount"], props["currency"], ms) or 0.0
    elif event_type == PointsRedeemed.event_type:
        bisect.insort(redemptions(profile), [ms, tp.position, props["points"]])
    elif event_type == "nps_answered":
        bisect.insort(profile["nps"], [ms, tp.position, props["score"]])
    elif event_type in TICKET_ACTIONS:
        fact = [ms, tp.position, props["ticket_id"], TICKET_ACTIONS[event_type], bool(props.get("is_complaint", False))]
        bisect.insort(profile["tickets"], fact)
        if event_type == "ticket_opened":
            _set_ticket_info(profile["ticket_info"], props["ticket_id"], [tp.position, props["channel"], props.get("category") or "", props["priority"], fact[4]])
    elif event_type == "csat_answered":
        bisect.insort(profile["csat"], [ms, tp.position, props["score"]])
    elif event_type == "csi_answered":
        bisect.insort(profile["csi"], [ms, tp.position, props["factors"]], key=_ms_pos)
    elif event_type == "event_tracked" and props["name"] in rules.referral_events:
        bisect.insort(profile["referrals"], [ms, tp.position])
    text = props.get(FREE_TEXT.get(event_type, ""))
    if not text:
        return None
    found = sentiment(text, rules.sentiment)
    label = props.get("sentiment") or found.label
    bisect.insort(profile["sentiments"], [ms, tp.position, event_type, label, found.score, list(found.terms)], key=_ms_pos)
    return Said(text, found)


def absorb(survivor: Profile, absorbed: Profile) -> None:
    """Folds the state of a customer merged away into the survivor."""
    for id_type, values in absorbed["ids"].items():
        survivor["ids"][id_type] = sorted(set(survivor["ids"][id_type]).union(values))
    for name, trait in absorbed["traits"].items():
        _set_trait(survivor["traits"], name, trait)
    for edge, pick in (("first_seen", min), ("last_seen", max)):
        values = [v for v in (survivor[edge], absorbed[edge]) if v is not None]
        survivor[edge] = pick(values) if values else None
    for counter in ("by_source_kind", "by_source", "by_event_type"):
        for key, n in absorbed[counter].items():
            _count(survivor[counter], key, n)
    survivor["revenue"] += absorbed["revenue"]
    survivor["refunds"] += absorbed["refunds"]
    for facts in ("purchases", "nps", "tickets", "csat", "referrals"):
        survivor[facts] = sorted(survivor[facts] + absorbed[facts])
    survivor["redemptions"] = sorted(redemptions(survivor) + redemptions(absorbed))
    for facts in ("csi", "sentiments"):
        survivor[facts] = sorted(survivor[facts] + absorbed[facts], key=_ms_pos)
    survivor["activity"] = sorted(set(survivor["activity"]).union(absorbed["activity"]))
    for event_type, times in absorbed["times"].items():
        survivor["times"][event_type] = sorted(survivor["times"].get(event_type, []) + times)
    for key, ms in absorbed["id_seen"].items():
        _first_seen(survivor["id_seen"], key, ms)
    for name, history in absorbed["trait_history"].items():
        survivor["trait_history"][name] = sorted(survivor["trait_history"].get(name, []) + history, key=_ms_pos)
    for ticket, info in absorbed["ticket_info"].items():
        _set_ticket_info(survivor["ticket_info"], ticket, info)
    consent.combine(survivor["consent"], absorbed["consent"])
    survivor["derived"].update(tags_until=None, churn_until=None)  # the merged histories are replayed from the first event


def churn_changes(profile: Profile) -> list[list]:
    """The churn-level changes written for the customer (``projections.churn_history``; none yet in a state saved before they were)."""
    return profile["derived"].setdefault("churn_changes", [])


def redemptions(profile: Profile) -> list[list]:
    """The profile's redemptions (a state saved before redemptions were kept has none yet)."""
    return profile.setdefault("redemptions", [])


def erase(profile: Profile, user_id: str) -> None:
    """What forgetting leaves of a profile: its counts and facts, no traits, and one identifier, the
    erasure token ``user_id`` (what the forgotten person's events resolve to once their keys are gone)."""
    first = min(profile["id_seen"].values(), default=profile["first_seen"])
    profile["ids"] = {t: [] for t in ID_TYPES} | {"user_id": [user_id], "account_id": profile["ids"]["account_id"]}
    accounts = {key: ms for key, ms in profile["id_seen"].items() if key.startswith("account_id:")}
    profile["id_seen"] = accounts | ({f"user_id:{user_id}": first} if first is not None else {})
    profile["traits"] = {}
    profile["trait_history"] = {}
    profile["consent"]["suppressions"] = []  # keyed by the person's identifiers; the warehouse's go too (cdp.privacy.scrub)


def lifecycle_facts(profile: Profile) -> Facts:
    return Facts(
        purchases=[(ms, pos) for ms, pos, _ in profile["purchases"]],
        activity=profile["activity"],
        nps=profile["nps"],  # [ms, position, score] lists, read as they are
        tickets=profile["tickets"],  # [ms, position, ticket, action, is complaint] lists
        first_seen=first_event(profile),
    )


def first_event(profile: Profile) -> tuple[int, tuple[str, ...]] | None:
    """When the customer became known — their first event of any type, an ``identify`` or a consent
    change included (the erasure mark excepted) — and the event types seen at that moment, sorted.
    Derived from ``times``, so it needs no state of its own and a merge or a late event moves it."""
    firsts = [(times[0], event_type) for event_type, times in profile["times"].items() if times]
    if not firsts:
        return None
    first = min(ms for ms, _ in firsts)
    return first, tuple(sorted(event_type for ms, event_type in firsts if ms == first))


def current_traits(profile: Profile) -> dict[str, Any]:
    return {name: value for name, (value, _, _) in sorted(profile["traits"].items())}


def _add_identifiers(ids: dict[str, list], identifiers: dict) -> None:
    for id_type in _ONE_VALUED:
        value = identifiers.get(id_type)
        if value is not None:
            _insert_unique(ids[id_type], value)
    for handle in identifiers.get("social", ()):
        _insert_unique(ids["social"], f"{handle['platform']}:{handle['handle']}")


def _note_identifiers(seen: dict[str, int], identifiers: dict, ms: int) -> None:
    for kind in _ONE_VALUED:
        value = identifiers.get(kind)
        if value is not None:
            _first_seen(seen, f"{kind}:{value}", ms)
    for handle in identifiers.get("social", ()):
        _first_seen(seen, f"social:{handle['platform']}:{handle['handle']}", ms)


def _first_seen(seen: dict[str, int], key: str, ms: int) -> None:
    if key not in seen or ms < seen[key]:
        seen[key] = ms


def _set_ticket_info(info: dict[str, list], ticket: str, candidate: list) -> None:
    if ticket not in info or candidate[0] < info[ticket][0]:  # the first ticket_opened in the log wins
        info[ticket] = candidate


def _ms_pos(fact: list) -> tuple[int, int]:
    return fact[0], fact[1]


def _set_trait(traits: dict[str, list], name: str, candidate: list) -> None:
    current = traits.get(name)
    if current is None or (candidate[1], candidate[2]) > (current[1], current[2]):
        traits[name] = candidate


def _count(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


def _insert_unique(values: list, value: Any) -> None:
    i = bisect.bisect_left(values, value)
    if i == len(values) or values[i] != value:
        values.insert(i, value)
