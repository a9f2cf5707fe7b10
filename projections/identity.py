"""Identity resolution (全渠道客户管理): identifiers seen together belong to one customer.

Pure: the caller loads the slice of the identity graph that a batch touches (``IdentityGraph``),
``resolve`` walks the batch in log order and returns which customer each event belongs to and
which customers merged. A merge keeps the customer created first (lowest log position), so the
result depends only on the log, not on how it was batched.
"""

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from projections.causes import Cause, cause, english
from projections.touchpoint import Touchpoint
from schemas import PERSON_ID_TYPES, PersonIdType, person_keys
from schemas.derived_ids import uuid5_str

CUSTOMER_NAMESPACE = uuid.UUID("5b1e0c59-2a43-4e0b-9d8e-3c4f1f6f0a11")
_CUSTOMER_NAMESPACE_BYTES = CUSTOMER_NAMESPACE.bytes


class IdentityRules(BaseModel):
    """Which identifiers may join customers, and how many of each one customer may hold.

    Blocked values (test and placeholder identifiers, shared by unrelated people) stay on the event
    and the profile but never link two customers. Limits stop over-merging: a family sharing one
    email but each with their own phone stays two customers, because joining them would give one
    customer two phones. A merge that turns out wrong is undone by blocking the identifier that
    made it (``blocked_values``) and rebuilding (``cdp projections rebuild``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    blocked_patterns: dict[str, list[str]] = Field(
        default={
            "phone": [r"^\+?\d?0{6,}$", r"^\+?(\d)\1{6,}$", r"^\+?\d{0,3}123456789\d?$", r"^\+?(86)?13800138000$"],
            "email": [r"^(test|tests|noreply|no-reply|donotreply|do-not-reply|null|none|unknown|anonymous|nobody)@", r"@(test\.com|mailinator\.com|example\.invalid)$"],
            "user_id": [r"^(0|null|none|undefined|anonymous|guest|test)$"],
        },
        description=f"Identifier type ({', '.join(PERSON_ID_TYPES)}) → regular expressions of values that never join customers.",
    )
    blocked_values: list[str] = Field(
        default=[],
        description="Exact identifiers as type:value (e.g. email:family@example.com, social:wechat:shop_helper) that never join customers; "
        "add the identifier behind a wrong merge here and rebuild to undo it.",
    )
    max_per_customer: dict[PersonIdType, int] = Field(
        default={"user_id": 1, "phone": 1, "email": 3, "social": 10, "anonymous_id": 50},
        description="At most this many identifiers of a type on one customer; a merge or a new identifier that would exceed it is refused "
        "and recorded (identity_refusals). Types not listed are unlimited.",
    )
    priority: list[PersonIdType] = Field(
        default=["user_id", "phone", "email", "social", "anonymous_id"],
        description="Identifier types from most to least trusted: an event belongs to the customer of its most trusted identifier, "
        "and its other identifiers join that customer only within the limits.",
    )

    @field_validator("max_per_customer")
    @classmethod
    def _positive(cls, limits: dict[str, int]) -> dict[str, int]:
        bad = [kind for kind, n in limits.items() if n < 1]
        if bad:
            raise ValueError(f"limits must be at least 1 ({', '.join(bad)})")
        return limits

    @field_validator("priority")
    @classmethod
    def _every_type_once(cls, order: list[str]) -> list[str]:
        if sorted(order) != sorted(PERSON_ID_TYPES):
            raise ValueError(f"must list each of {', '.join(PERSON_ID_TYPES)} exactly once")
        return order

    @cached_property
    def _compiled(self) -> dict[str, re.Pattern]:
        return {kind: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) for kind, patterns in self.blocked_patterns.items() if patterns}

    @cached_property
    def _rank(self) -> dict[str, int]:
        return {kind: i for i, kind in enumerate(self.priority)}

    @cached_property
    def _verdicts(self):
        blocked = frozenset(self.blocked_values)

        @lru_cache(maxsize=1 << 16)
        def joins(key: str) -> bool:
            if key in blocked:
                return False
            kind, value = key.split(":", 1)
            pattern = self._compiled.get(kind)
            return pattern is None or pattern.search(value) is None

        return joins

    def joins(self, key: str) -> bool:
        """Whether the ``type:value`` identifier may link customers."""
        return self._verdicts(key)

    def joining(self, keys: Iterable[str]) -> list[str]:
        """Those of ``keys`` that may link customers, most trusted first (the verdicts looked up once,
        not per key: the relay and the runner ask once per event)."""
        joins = self._verdicts
        return self.by_priority([key for key in keys if joins(key)])

    def by_priority(self, keys: list[str]) -> list[str]:
        if len(keys) < 2:  # most events: nothing to order (once per event in the relay and the runner)
            return keys
        rank = self._rank
        return sorted(keys, key=lambda k: rank[id_type(k)])

    def excess(self, keys: Iterable[str]) -> str:
        """Empty when a customer may hold all ``keys``; else which limit they break."""
        counts = Counter(id_type(k) for k in keys)
        for kind, limit in self.max_per_customer.items():
            if counts[kind] > limit:
                return f"{counts[kind]} {kind} identifiers (limit {limit})"
        return ""


def id_type(key: str) -> str:
    return key.split(":", 1)[0]


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
    why: Cause  # which event linked them, through which identifier types (projections/causes.py)

    @property
    def reason(self) -> str:
        return english(self.why)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A join the limits refused: ``identifier`` stayed with ``other`` (or unattached when ``other`` is empty)."""

    customer: str
    other: str
    identifier: str
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
    refusals: list[Refusal] = field(default_factory=list)


def joining_keys(identifiers: dict, rules: IdentityRules) -> list[str]:
    """The event's identifiers that may link customers, most trusted first."""
    return rules.joining(person_keys(identifiers))


def resolve_batch(load_identity: Callable[[set[str]], IdentityGraph], touchpoints: list[Touchpoint], rules: IdentityRules) -> tuple[IdentityGraph, Resolution]:
    """``resolve`` over the part of the graph the batch's identifiers name (``load_identity``: the
    embedded runner's or the scale-out relay's), each event's ``joining_keys`` worked out once for
    both the load and the resolution."""
    keys = [joining_keys(tp.event["identifiers"], rules) for tp in touchpoints]
    graph = load_identity({key for event_keys in keys for key in event_keys})
    return graph, resolve(graph, touchpoints, rules, keys)


def new_customer_id(event: dict) -> str:
    """Derived from the creating event's source and message id: stable across rebuilds, no personal data."""
    return uuid5_str(_CUSTOMER_NAMESPACE_BYTES, f"{event['source_name']}/{event['message_id']}")


def resolve(graph: IdentityGraph, touchpoints: list[Touchpoint], rules: IdentityRules, keys_of: Sequence[list[str]] | None = None) -> Resolution:
    """Assigns each event to a customer, creating and merging customers as identifiers link up.

    Per event, identifiers are taken most trusted first: the first names the customer (an existing
    one, or a new one created by this event); each further identifier joins it, or merges its own
    customer into it (the one created first survives), unless the result would break a limit, in
    which case the join is refused and recorded. ``keys_of``: each touchpoint's ``joining_keys``, when
    the caller computed them already (``resolve_batch``, which loads the graph for them).
    """
    merged_into: dict[str, str] = {}
    result = Resolution({}, [], {}, set(), set())
    for index, tp in enumerate(touchpoints):
        keys = joining_keys(tp.event["identifiers"], rules) if keys_of is None else keys_of[index]
        customer, fresh = None, False
        for key in keys:
            owner = graph.index.get(key)
            if customer is None:
                customer = owner
                if owner is None:
                    customer, fresh = new_customer_id(tp.event), True
                    graph.customers[customer] = CustomerIdentity(tp.position, [])
                    _attach(graph, customer, [key], tp.position, result)
            elif owner == customer:
                continue
            elif owner is None:
                excess = rules.excess([*graph.customers[customer].keys, key])
                if excess:
                    result.refusals.append(_refusal(customer, "", key, tp, f"not attached: the customer would hold {excess}"))
                else:
                    _attach(graph, customer, [key], tp.position, result)
            else:
                excess = rules.excess(set(graph.customers[customer].keys).union(graph.customers[owner].keys))
                if excess:
                    result.refusals.append(_refusal(customer, owner, key, tp, f"merge refused: one customer would hold {excess}"))
                elif fresh:  # created by this very event: its identifiers simply join the existing customer
                    moved = graph.customers.pop(customer).keys
                    result.changed_customers.discard(customer)
                    customer, fresh = owner, False
                    _attach(graph, customer, moved, tp.position, result)
                else:
                    survivor, absorbed = sorted((customer, owner), key=lambda c: graph.customers[c].created_at_position)
                    _merge(graph, absorbed, survivor, tp, keys, result)
                    merged_into[absorbed] = survivor
                    customer = survivor
        if customer is None:  # only blocked identifiers: a customer of its own
            customer = new_customer_id(tp.event)
            graph.customers[customer] = CustomerIdentity(tp.position, [])
        result.assignments[tp.position] = customer
    for position, customer in result.assignments.items():
        while customer in merged_into:
            customer = merged_into[customer]
        result.assignments[position] = customer
    return result


def _attach(graph: IdentityGraph, customer: str, keys: list[str], position: int, result: Resolution) -> None:
    for key in keys:
        graph.index[key] = customer
        result.changed_keys[key] = (customer, position)
    identity = graph.customers[customer]
    identity.keys = sorted(set(identity.keys).union(keys))
    result.changed_customers.add(customer)


def _refusal(customer: str, other: str, key: str, tp: Touchpoint, why: str) -> Refusal:
    reason = f"event {tp.event['source_name']}/{tp.event['message_id']}: {id_type(key)} {why}"
    return Refusal(customer, other, key, tp.position, tp.event["occurred_at"], reason)


def _merge(graph: IdentityGraph, absorbed: str, survivor: str, tp: Touchpoint, keys: list[str], result: Resolution) -> None:
    gone = graph.customers.pop(absorbed)
    _attach(graph, survivor, gone.keys, tp.position, result)
    why = cause("named_both", event=f"{tp.event['source_name']}/{tp.event['message_id']}", id_types=[id_type(k) for k in keys])
    result.merges.append(Merge(absorbed, survivor, tp.position, tp.event["occurred_at"], why))
    result.changed_customers.discard(absorbed)
    result.removed_customers.add(absorbed)
