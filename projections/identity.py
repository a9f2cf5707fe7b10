"""Identity resolution (全渠道客户管理): identifiers seen together belong to one customer.

Pure: the caller loads the slice of the identity graph that a batch touches (``IdentityGraph``),
``resolve`` walks the batch in log order and returns which customer each event belongs to and
which customers merged. A merge keeps the customer created first (lowest log position), so the
result depends only on the log, not on how it was batched.
"""

import re
import uuid
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

from projections.touchpoint import Touchpoint
from schemas import person_keys

CUSTOMER_NAMESPACE = uuid.UUID("5b1e0c59-2a43-4e0b-9d8e-3c4f1f6f0a11")


class IdentityRules(BaseModel):
    """Which identifiers may join customers. Blocked values (test and placeholder identifiers, shared by
    unrelated people) stay on the event and the profile but never link two customers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blocked_patterns: dict[str, list[str]] = Field(
        default={
            "phone": [r"^\+?\d?0{6,}$", r"^\+?(\d)\1{6,}$", r"^\+?\d{0,3}123456789\d?$"],
            "email": [r"^(test|tests|noreply|no-reply|donotreply|do-not-reply|null|none|unknown|anonymous|nobody)@", r"@(test\.com|mailinator\.com|example\.invalid)$"],
            "user_id": [r"^(0|null|none|undefined|anonymous|guest|test)$"],
        },
        description="Identifier type (user_id, email, phone, social, anonymous_id) → regular expressions of values that never join customers.",
    )

    @cached_property
    def _compiled(self) -> dict[str, re.Pattern]:
        return {kind: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) for kind, patterns in self.blocked_patterns.items() if patterns}

    def joins(self, key: str) -> bool:
        """Whether the ``type:value`` identifier may link customers."""
        kind, value = key.split(":", 1)
        pattern = self._compiled.get(kind)
        return pattern is None or pattern.search(value) is None


@dataclass(slots=True)
class CustomerIdentity:
    created_at_position: int
    keys: list[str]  # sorted "type:value" identifiers


@dataclass(slots=True)
class IdentityGraph:
    """The loaded part of the graph: identifier key → customer id, and those customers."""

    index: dict[str, str]
    customers: dict[str, CustomerIdentity]


@dataclass(frozen=True, slots=True)
class Merge:
    absorbed: str
    survivor: str
    position: int
    occurred_at: str
    reason: str


@dataclass(slots=True)
class Resolution:
    assignments: dict[int, str]  # event position → customer id (after this batch's merges)
    merges: list[Merge]
    changed_keys: dict[str, tuple[str, int]]  # identifier key → (its customer now, position that assigned it)
    changed_customers: set[str]
    removed_customers: set[str]


def joining_keys(identifiers: dict, rules: IdentityRules) -> list[str]:
    return [key for key in person_keys(identifiers) if rules.joins(key)]


def batch_keys(touchpoints: list[Touchpoint], rules: IdentityRules) -> set[str]:
    return {key for tp in touchpoints for key in joining_keys(tp.event["identifiers"], rules)}


def new_customer_id(event: dict) -> str:
    """Derived from the creating event's source and message id: stable across rebuilds, no personal data."""
    return str(uuid.uuid5(CUSTOMER_NAMESPACE, f"{event['source_name']}/{event['message_id']}"))


def resolve(graph: IdentityGraph, touchpoints: list[Touchpoint], rules: IdentityRules) -> Resolution:
    """Assigns each event to a customer, creating and merging customers as identifiers link up."""
    merged_into: dict[str, str] = {}
    result = Resolution({}, [], {}, set(), set())
    for tp in touchpoints:
        keys = joining_keys(tp.event["identifiers"], rules)
        owners = sorted({graph.index[k] for k in keys if k in graph.index}, key=lambda c: graph.customers[c].created_at_position)
        if owners:
            customer = owners[0]
        else:
            customer = new_customer_id(tp.event)
            graph.customers[customer] = CustomerIdentity(tp.position, [])
        for absorbed in owners[1:]:
            _merge(graph, absorbed, customer, tp, keys, result)
            merged_into[absorbed] = customer
        identity = graph.customers[customer]
        new_keys = [k for k in keys if graph.index.get(k) != customer]
        for key in new_keys:
            graph.index[key] = customer
            result.changed_keys[key] = (customer, tp.position)
        if new_keys:
            identity.keys = sorted(set(identity.keys).union(new_keys))
            result.changed_customers.add(customer)
        result.assignments[tp.position] = customer
    for position, customer in result.assignments.items():
        while customer in merged_into:
            customer = merged_into[customer]
        result.assignments[position] = customer
    return result


def _merge(graph: IdentityGraph, absorbed: str, survivor: str, tp: Touchpoint, keys: list[str], result: Resolution) -> None:
    gone = graph.customers.pop(absorbed)
    for key in gone.keys:
        graph.index[key] = survivor
        result.changed_keys[key] = (survivor, tp.position)
    target = graph.customers[survivor]
    target.keys = sorted(set(target.keys).union(gone.keys))
    linking = [k.split(":", 1)[0] for k in keys]
    reason = f"event {tp.event['source_name']}/{tp.event['message_id']} named identifiers of both ({', '.join(linking)})"
    result.merges.append(Merge(absorbed, survivor, tp.position, tp.event["occurred_at"], reason))
    result.changed_customers.add(survivor)
    result.changed_customers.discard(absorbed)
    result.removed_customers.add(absorbed)
