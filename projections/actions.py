"""Outbound actions: what the log calls for, derived, never decided (docs/architecture.md §2).

A trigger (``projections/triggers``) or an audience sync turns events and projection state into
``Action`` values; the outbox (``cdp/activation``) keeps them by ``action_id`` and the dispatcher
delivers each id at most once to its destination. Because the id depends only on the rule, the
customer and the cause's place in the log, a replay, a rebuild, a restart or a scale-out worker
taking over a partition derives the same ids again, and the outbox adds nothing new.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


def derive_action_id(rule: str, customer_id: str, cause: str) -> str:
    """The id of the action ``rule`` calls for on ``customer_id`` because of ``cause``.

    ``cause`` names the cause's place in the log: an event's notification position ("p:1234"),
    or for a time-driven rule the day it fires and the rule's date ("d:2026-12-06:birthday"), or
    for an audience sync the sync's as-of position and the change ("sync:5678:entered").
    """
    digest = hashlib.sha256("\x1f".join((rule, customer_id, cause)).encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True, slots=True)
class Action:
    """One message to one customer (or about one customer, to staff) through one destination."""

    action_id: str  # derive_action_id(rule, customer_id, cause)
    rule: str  # "trigger:<name>" or "audience:<binding name>"
    customer_id: str
    destination: str  # the name of a configured destination
    template: str  # the template's name in the destination's configuration ("" sends the payload as is)
    channel: str  # "email", "webhook", "staff", ...: what the frequency cap and the preferred channel count
    purpose: str  # the consent purpose checked at send time (schemas.payloads.consent.PURPOSES), "" for staff alerts
    cause: str  # the cause, as given to derive_action_id
    cause_time: datetime  # the cause's event time (UTC), shown in the delivery log
    not_before: datetime | None = None  # quiet hours: the earliest time (UTC) it may be sent
    payload: Mapping[str, Any] = field(default_factory=dict)  # JSON-able fields a template may use
