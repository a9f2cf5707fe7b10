"""The dispatcher: delivers due actions from the outbox to their destinations (docs/activation.md).

One round (``run_once``): claim a batch of due actions (quiet hours are the actions' ``not_before``;
destinations whose circuit is open are left alone), read at send time whether each customer may
be contacted for the action's purpose (``cdp.activation.contact``), send each through its
destination at no more than its rate, then record every outcome: first as events in the log
(``message_sent``, ``message_delivered``, ``message_failed``, through the ingest path, so they
reach the timeline and analytics; their ids derive from the action's, so recording twice stores
once), then in the outbox. Killed anywhere, the claimed actions are claimed again when their lease
runs out and sent again under the same id (the ``Idempotency-Key`` a receiver deduplicates by).

A failure that may pass (a timeout, a 5xx) is retried after an exponential backoff with jitter
(``activation.backoff_seconds`` doubled per attempt, times 0.5-1.5, at most
``max_backoff_seconds``) until ``max_attempts``, then the action is a dead letter (``cdp
deliveries replay``); a permanent one is a dead letter at once. ``breaker_failures`` failures in a
row open a destination's circuit for ``breaker_cooldown_seconds``.
"""

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cdp.activation.contact import Reachable, reachable
from cdp.activation.destinations import Destination, Message, Permanent, Retryable, Sent
from cdp.activation.outbox import DEAD, DELIVERED, PENDING, SENT, SKIPPED, Claimed, Outcome
from cdp.config import ActivationSettings
from cdp.errors import CdpError
from cdp.segments.evaluate import members_among
from cdp.segments.store import NOT_EVALUABLE
from cdp.platform import Platform
from ingestion.validation import Invalid, validate
from projections.actions import Action
from schemas import Envelope
from schemas.payloads.messages import MessageDelivered, MessageFailed, MessageSent

SOURCE_NAME = "activation"  # the source every delivery event comes from
MAX_DETAIL = 500


@dataclass
class Report:
    """What one round did, by outcome."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: "Report") -> None:
        self.claimed += other.claimed
        for k, v in other.outcomes.items():
            self.outcomes[k] += v


class Breaker:
    """A destination's circuit: open after ``threshold`` failures in a row, for ``cooldown`` seconds."""

    def __init__(self, threshold: int, cooldown: float):
        self.threshold, self.cooldown = threshold, cooldown
        self.failures, self.open_until = 0, 0.0
        self._lock = threading.Lock()

    def is_open(self, now: float) -> bool:
        return now < self.open_until

    def failed(self, now: float) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.open_until, self.failures = now + self.cooldown, 0

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0


class RateLimit:
    """A token bucket: ``rate`` sends a second, in bursts of at most one second's worth."""

    def __init__(self, rate: float):
        self.rate, self.tokens, self.at = rate, min(rate, 1.0), time.monotonic()
        self._lock = threading.Lock()  # held while waiting: the senders of one destination queue up

    def wait(self, sleep: Callable[[float], None]) -> None:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                sleep((1 - self.tokens) / self.rate)
                self.tokens, self.at = 1.0, time.monotonic()
            self.tokens -= 1


class Dispatcher:
    def __init__(self, platform: Platform, clock: Callable[[], float] = time.time, rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep):
        self.platform = platform
        self.settings: ActivationSettings = platform.settings.activation
        self.clock, self.sleep = clock, sleep
        self.rng = rng or random.Random()
        self.breakers: dict[str, Breaker] = {}
        self.limits: dict[str, RateLimit] = {}
        self._lock = threading.Lock()  # the sends of a round run on ``activation.concurrency`` threads

    def run_once(self) -> Report:
        """One round over the actions due now; its report (``claimed`` 0: nothing was due)."""
        settings, outbox = self.settings, self.platform.outbox
        now = self.clock()
        claimed = outbox.claim(now, settings.batch, settings.lease_seconds, [d for d, b in self.breakers.items() if b.is_open(now)])
        report = Report(len(claimed))
        if not claimed:
            return report
        deadline = now + settings.lease_seconds / 2  # what is not sent by then goes back, before another dispatcher may claim it
        contacts = self._reachability([c.action for c in claimed], datetime.fromtimestamp(now, UTC))
        outside = self._outside_segments([c.action for c in claimed])
        destinations = {name: self._destination(name) for name in {c.action.destination for c in claimed}}
        try:
            with ThreadPoolExecutor(settings.concurrency, thread_name_prefix="cdp-dispatch") as pool:
                reaches = [outside.get(item.action.action_id) or contacts[(item.action.purpose, item.action.customer_id)] for item in claimed]
                outcomes = list(pool.map(lambda item, reach: self._attempt(item, reach, destinations, deadline), claimed, reaches))
            results = list(zip(claimed, outcomes, reaches, strict=True))
        finally:
            for destination in destinations.values():
                if isinstance(destination, Destination):
                    destination.close()
        at = self.clock()
        self.platform.append([e for item, outcome, reach in results for e in _events(item, outcome, reach, at)])
        outbox.record([outcome for _, outcome, _ in results], at)
        for _, outcome, _ in results:
            report.outcomes["released" if outcome.released else outcome.status if outcome.status != PENDING else "retry"] += 1
        return report

    def _reachability(self, actions: list[Action], at: datetime) -> dict[tuple[str, str], Reachable]:
        by_purpose: dict[str, set[str]] = defaultdict(set)
        for action in actions:
            by_purpose[action.purpose].add(action.customer_id)
        found = {}
        for purpose, customers in by_purpose.items():
            for customer, reach in reachable(self.platform.warehouse, self.platform.settings.consent, customers, purpose, at).items():
                found[(purpose, customer)] = reach
        return found

    def _outside_segments(self, actions: list[Action]) -> dict[str, Reachable]:
        """The actions whose trigger names a segment (``payload["segment"]`` of a ``trigger:`` rule; an
        audience's payload names its segment too, but its "left" actions go to those outside) for a
        customer not in it now: refused at send time, as a withdrawn consent is (docs/triggers.md)."""
        conditional = [a for a in actions if a.rule.startswith("trigger:") and "segment" in a.payload]
        wanted: dict[str, set[str]] = defaultdict(set)
        for action in conditional:
            wanted[action.payload["segment"]].add(action.customer_id)
        members: dict[str, set[str]] = {}
        for name, customers in wanted.items():
            try:
                members[name] = members_among(self.platform.warehouse, self.platform.segments.get(name), customers)
            except NOT_EVALUABLE:  # no member
                members[name] = set()
        return {a.action_id: Reachable(a.customer_id, f"not_in_segment: {a.payload['segment']}") for a in conditional if a.customer_id not in members[a.payload["segment"]]}

    def _attempt(self, item: Claimed, reach: Reachable, destinations: dict[str, Destination | CdpError], deadline: float) -> Outcome:
        """One send, on one of the round's threads."""
        action, now = item.action, self.clock()
        if reach.refusal:
            return Outcome(action.action_id, item.attempt, SKIPPED, reach.refusal)
        with self._lock:
            breaker = self.breakers.setdefault(action.destination, Breaker(self.settings.breaker_failures, self.settings.breaker_cooldown_seconds))
        if breaker.is_open(now) or now > deadline:
            later = breaker.open_until if breaker.is_open(now) else now
            return Outcome(action.action_id, item.attempt, PENDING, "circuit open" if breaker.is_open(now) else "batch ran long", later, released=True)
        destination = destinations[action.destination]
        if isinstance(destination, CdpError):
            return Outcome(action.action_id, item.attempt, DEAD, f"permanent_error: {destination}"[:MAX_DETAIL])
        self._limit(action.destination, destination).wait(self.sleep)
        message = Message(
            action.action_id, action.rule, action.customer_id, action.template, action.channel, action.cause, action.cause_time,
            datetime.fromtimestamp(self.clock(), UTC), dict(action.payload), reach.contact,
        )  # fmt: skip
        try:
            sent: Sent = destination.send(message)
        except Permanent as error:
            return Outcome(action.action_id, item.attempt, DEAD, f"permanent_error: {error}"[:MAX_DETAIL])
        except Retryable as error:
            breaker.failed(self.clock())
            return self._retry(item, str(error))
        except Exception as error:  # a plugin's bug: retried like a failure that may pass, and named
            breaker.failed(self.clock())
            return self._retry(item, f"{type(error).__name__} in the {action.destination} destination")
        breaker.succeeded()
        return Outcome(action.action_id, item.attempt, DELIVERED if sent.delivered else SENT, sent.detail[:MAX_DETAIL])

    def _retry(self, item: Claimed, detail: str) -> Outcome:
        s = self.settings
        if item.attempt >= s.max_attempts:
            return Outcome(item.action.action_id, item.attempt, DEAD, f"dead_letter: {detail} (attempt {item.attempt} of {s.max_attempts})"[:MAX_DETAIL])
        delay = min(s.max_backoff_seconds, s.backoff_seconds * 2 ** (item.attempt - 1)) * self.rng.uniform(0.5, 1.5)
        return Outcome(item.action.action_id, item.attempt, PENDING, detail[:MAX_DETAIL], self.clock() + delay)

    def _destination(self, name: str) -> Destination | CdpError:
        try:
            return self.platform.destinations.open(name, self.settings.timeout_seconds, self.platform.settings.outbound_path)
        except CdpError as error:  # removed, or its kind uninstalled: every action for it is a dead letter
            return error

    def _limit(self, name: str, destination: Destination) -> "RateLimit":
        with self._lock:
            if name not in self.limits:
                self.limits[name] = RateLimit(destination.settings.rate_per_second or self.settings.rate_per_second)
            return self.limits[name]


def _events(item: Claimed, outcome: Outcome, reach: Reachable, at: float) -> list[Envelope]:
    """The delivery events an outcome records (none for a retry, or a customer without identifiers)."""
    if outcome.status == PENDING or not reach.identifiers:
        return []
    kinds: list[tuple[type, dict]] = []
    if outcome.status in (SENT, DELIVERED):
        kinds.append((MessageSent, {}))
    if outcome.status == DELIVERED:
        kinds.append((MessageDelivered, {}))
    if outcome.status in (SKIPPED, DEAD):
        reason, _, detail = outcome.detail.partition(": ") if outcome.status == DEAD else (outcome.detail, "", "")
        kinds.append((MessageFailed, {"reason": reason, "detail": detail[:MAX_DETAIL]}))
    action, when = item.action, datetime.fromtimestamp(at, UTC)
    common = {"action_id": action.action_id, "rule": action.rule[:200], "destination": action.destination, "channel": action.channel, "template": action.template[:200], "attempt": item.attempt}
    events = []
    for payload, extra in kinds:
        data = {
            "message_id": f"{payload.event_type}:{action.action_id}", "event_type": payload.event_type, "source_kind": payload.source_kind,
            "source_name": SOURCE_NAME, "occurred_at": when, "identifiers": reach.identifiers, "properties": {**common, **extra},
        }  # fmt: skip
        try:
            events.append(validate(data, when))
        except Invalid as error:  # cannot happen with what the outbox holds; never lose the delivery over it
            raise CdpError(f"delivery event of action {action.action_id}: {error}") from None
    return events
