"""The unified profile (客户画像): everything known about one customer, across channels.

State is a plain JSON-able dict per customer (see ``empty_profile``). ``apply`` folds events in;
``absorb`` folds a merged-away customer's state in. Both are order-insensitive (counts add, sets
unite, traits keep the value with the latest event time, fact lists stay sorted), so the result
does not depend on batching, and a late event never overwrites a newer trait.
"""

import bisect
from typing import Any

from projections.lifecycle import Facts
from projections.touchpoint import Touchpoint, to_ms
from schemas import SOURCE_KINDS
from schemas.payloads.sales import PURCHASE_EVENT_TYPES

Profile = dict[str, Any]

ID_TYPES = ("anonymous_id", "user_id", "email", "phone", "social", "account_id")
PASSIVE_EVENT_TYPES = frozenset({"identified"})  # identity plumbing, not an interaction by the customer
TICKET_ACTIONS = {
    "ticket_opened": "opened",
    "ticket_first_responded": "responded",
    "ticket_escalated": "escalated",
    "ticket_resolved": "resolved",
    "ticket_reopened": "reopened",
}


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
    }


def apply(profile: Profile, tp: Touchpoint) -> None:
    """Folds one event into the profile."""
    event = tp.event
    ms = to_ms(event["occurred_at"])
    _add_identifiers(profile["ids"], event["identifiers"])
    for name, value in event["traits"].items():
        _set_trait(profile["traits"], name, [value, ms, tp.position])
    profile["first_seen"] = ms if profile["first_seen"] is None else min(profile["first_seen"], ms)
    profile["last_seen"] = ms if profile["last_seen"] is None else max(profile["last_seen"], ms)
    _count(profile["by_source_kind"], event["source_kind"])
    _count(profile["by_source"], event["source_name"])
    event_type = event["event_type"]
    _count(profile["by_event_type"], event_type)
    props = event["properties"]
    if event_type not in PASSIVE_EVENT_TYPES:
        _insert_unique(profile["activity"], ms)
    if event_type in PURCHASE_EVENT_TYPES:
        profile["revenue"] += props["amount"]
        bisect.insort(profile["purchases"], [ms, tp.position, props["amount"]])
    elif event_type == "order_refunded":
        profile["refunds"] += props["amount"]
    elif event_type == "nps_answered":
        bisect.insort(profile["nps"], [ms, tp.position, props["score"]])
    elif event_type in TICKET_ACTIONS:
        fact = [ms, tp.position, props["ticket_id"], TICKET_ACTIONS[event_type], bool(props.get("is_complaint", False))]
        bisect.insort(profile["tickets"], fact)


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
    for facts in ("purchases", "nps", "tickets"):
        survivor[facts] = sorted(survivor[facts] + absorbed[facts])
    survivor["activity"] = sorted(set(survivor["activity"]).union(absorbed["activity"]))


def lifecycle_facts(profile: Profile) -> Facts:
    return Facts(
        purchases=[(ms, pos) for ms, pos, _ in profile["purchases"]],
        activity=profile["activity"],
        nps=[(ms, pos, score) for ms, pos, score in profile["nps"]],
        tickets=[tuple(t) for t in profile["tickets"]],
    )


def current_traits(profile: Profile) -> dict[str, Any]:
    return {name: value for name, (value, _, _) in sorted(profile["traits"].items())}


def _add_identifiers(ids: dict[str, list], identifiers: dict) -> None:
    for id_type in ("anonymous_id", "user_id", "email", "phone", "account_id"):
        value = identifiers.get(id_type)
        if value is not None:
            _insert_unique(ids[id_type], value)
    for handle in identifiers.get("social", ()):
        _insert_unique(ids["social"], f"{handle['platform']}:{handle['handle']}")


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
