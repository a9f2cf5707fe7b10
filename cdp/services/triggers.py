"""Triggers as a use case: list and show the configured rules, enable one (from now, or
backfilled from a past date) or disable it, and dry-run rules over a past period: who would have
received what, without sending (docs/triggers.md).

The rules: reading needs ``triggers:read``; enabling, disabling and dry-runs are an
administrator's (``admin``; an operator at the CLI has every scope). A dry-run replays the log in
memory through the same pipeline the runner uses, with the rules given, as if each had been
enabled at the start of the period, and keeps the actions whose cause falls in it; a rule's
``where.segment`` is checked against the segment's members now. A backfill derives the actions
of the period the same way and hands them to the platform's action sink: their ids are those the
live projection derives, so the outbox keeps one of each. The sample names customers by id and
shows no personal data (whether they have an email, masked). Every call is audited with its outcome.
"""

from __future__ import annotations  # the method ``list`` would shadow the type in the annotations after it

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from cdp.errors import CdpError
from cdp.masking import MASK
from cdp.platform import Platform
from cdp.refusals import refusal
from cdp.segments import evaluate
from cdp.segments.model import Segment, problem_of
from cdp.segments.store import NoSuchSegment
from cdp.services import Caller, NotFound
from cdp.services.audited import audited
from cdp.triggers import Enabled
from projections import state_codec
from projections.actions import Action
from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.touchpoint import Touchpoint
from projections.triggers.calendar import DAY_MS
from projections.triggers import Trigger, TriggerRule, TriggerRules
from schemas import describe

READ, ADMIN = "triggers:read", "admin"
MAX_SAMPLE = 100


class TriggerService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform = platform
        self.caller = caller

    def list(self) -> list[dict[str, Any]]:
        """Every configured rule: what causes it, where it sends, whether it is enabled and since when."""
        with self._audited(READ, "trigger.list", "*"):
            enabled = self.platform.triggers.all()
            return [
                {"name": name, "when": rule.when.kind, "destination": rule.then.destination, "channel": rule.then.channel, **_enablement(enabled.get(name))}
                for name, rule in sorted(self._rules().rules.items())
            ]

    def get(self, name: str) -> dict[str, Any]:
        with self._audited(READ, "trigger.read", name):
            rule = self._rule(name)
            return {"name": name, **rule.model_dump(mode="json"), **_enablement(self.platform.triggers.get(name))}

    def enable(self, name: str, backfill_since: datetime | None = None, now: datetime | None = None) -> dict[str, Any]:
        """Enables ``name`` from now (``now``: the wall clock unless given); with ``backfill_since``,
        from then, and the actions of the causes since then go to the action sink at once."""
        with self._audited(ADMIN, "trigger.enable", name, {"backfill_since": backfill_since and backfill_since.isoformat()}) as detail:
            rule = self._rule(name)
            moment = _ms(now or datetime.now(UTC))
            start = moment if backfill_since is None else _ms(backfill_since)
            if start > moment:
                raise refusal(CdpError, "backfill_future", start=_iso(start))
            enabled = self.platform.triggers.enable(name, start, moment)
            backfilled = 0
            if backfill_since is not None:
                rules = self._rules().model_copy(update={"rules": {name: rule}})
                actions = self._members_only(rules, _derive(self.platform, rules, start, moment)[1])
                backfilled = len(actions)
                if actions:
                    self.platform.action_sink(actions)
            detail["backfilled"] = backfilled
            return {"name": name, **_enablement(enabled), "backfilled": backfilled}

    def disable(self, name: str) -> dict[str, Any]:
        with self._audited(ADMIN, "trigger.disable", name):
            self._rule(name)
            if not self.platform.triggers.disable(name):
                raise refusal(NotFound, "trigger_not_enabled", name=name)
            return {"name": name, "enabled": False}

    def dry_run(self, definition: Mapping[str, Any], since: datetime, until: datetime, sample: int = 10) -> dict[str, Any]:
        """Who would have received what from these rules between ``since`` and ``until``, sending nothing.
        ``definition``: a ``[triggers]`` section (or a whole config with one); what it leaves out
        (holidays, caps, quiet hours, zones) comes from the configuration."""
        with self._audited(ADMIN, "trigger.dry_run", "*", {"since": since.isoformat(), "until": until.isoformat()}) as detail:
            if not 0 <= sample <= MAX_SAMPLE:
                raise refusal(CdpError, "trigger_sample_range", most=MAX_SAMPLE)
            if since >= until:
                raise refusal(CdpError, "since_after_until")
            rules = self.parse(definition)
            detail["rules"] = sorted(rules.rules)
            start, end = _ms(since), _ms(until)
            replay, derived = _derive(self.platform, rules, start, end)
            actions = self._members_only(rules, derived)
            per_rule = Counter(a.rule.removeprefix("trigger:") for a in actions)
            customers = {name: len({a.customer_id for a in actions if a.rule == f"trigger:{name}"}) for name in rules.rules}
            detail["actions"] = len(actions)
            return {
                "since": since.isoformat(), "until": until.isoformat(), "actions": len(actions),
                "rules": [{"name": name, "actions": per_rule[name], "customers": customers[name]} for name in sorted(rules.rules)],
                "sample": [TriggerService._shown(a, replay) for a in actions[:sample]],
            }  # fmt: skip

    def parse(self, definition: Mapping[str, Any]) -> TriggerRules:
        """Trigger rules as given, over the configured shared settings; errors name the field."""
        section = definition.get("triggers", definition) if isinstance(definition, Mapping) else definition
        if not isinstance(section, Mapping):
            raise refusal(CdpError, "rules_not_table")
        shared = self._rules().model_dump(exclude={"rules"})
        try:
            return TriggerRules.model_validate({**shared, **section})
        except ValidationError as error:
            invalid = CdpError(describe(error))
            invalid.problems = tuple(problem_of(e) for e in error.errors(include_url=False))  # for a door that words each (the console)
            raise invalid from None

    def _members_only(self, rules: TriggerRules, actions: list[Action]) -> list[Action]:
        """The actions whose rule names a segment kept only for its members now, as a send keeps them."""
        wanted: dict[str, set[str]] = {}
        for a in actions:
            if "segment" in a.payload:
                wanted.setdefault(a.payload["segment"], set()).add(a.customer_id)
        members = {name: evaluate.members_among(self.platform.warehouse, self._segment(name), customers) for name, customers in sorted(wanted.items())}
        return [a for a in actions if "segment" not in a.payload or a.customer_id in members[a.payload["segment"]]]

    def _segment(self, name: str) -> Segment:
        try:
            return self.platform.segments.get(name)
        except NoSuchSegment:
            raise refusal(NotFound, "no_segment_named", name=name) from None

    @staticmethod
    def _shown(action: Action, replay: Replay) -> dict[str, Any]:
        state = replay.profiles.get(action.customer_id)
        to = MASK if state and state_codec.decode(state)["ids"]["email"] else ""  # has an email: the sample never shows it
        return {
            "rule": action.rule.removeprefix("trigger:"), "customer_id": action.customer_id, "to": to, "destination": action.destination,
            "channel": action.channel, "template": action.template, "purpose": action.purpose, "cause": action.cause,
            "cause_time": action.cause_time.isoformat(), "not_before": action.not_before.isoformat() if action.not_before else None,
        }  # fmt: skip

    def _rules(self) -> TriggerRules:
        return self.platform.settings.triggers

    def _rule(self, name: str) -> TriggerRule:
        rule = self._rules().rules.get(name)
        if rule is None:
            known = sorted(self._rules().rules)
            raise refusal(NotFound, "no_trigger", name=name, known=known) if known else refusal(NotFound, "no_trigger_configured", name=name)
        return rule

    @contextmanager
    def _audited(self, scope: str, action: str, target: str, detail: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        with audited(self.platform.audit, self.caller, action, target, detail) as found:
            self.caller.require(scope)
            yield found


def _derive(platform: Platform, rules: TriggerRules, start: int, end: int) -> tuple[Replay, list[Action]]:
    """The whole log through the pipeline in memory, every rule as if enabled at ``start``, and the
    actions of causes from ``start`` to ``end``; events that occurred after ``end`` are left out, so
    time stops there. A batch ends where the log's time moves on by a day, so that causes are seen
    as the live runner sees them, not past ``late_days`` (stale)."""
    triggers = [Trigger(name, rule, start) for name, rule in rules.rules.items()]
    replay = Replay(Pipeline(platform.rules.model_copy(update={"triggers": rules}), triggers), keep_rows=False)
    position, size = 0, platform.settings.batch_size
    pending: list[Touchpoint] = []
    while True:
        batch = platform.events.read_readable(position, size)
        if not batch.stored:
            if pending:
                replay.batch(pending)
            return replay, [a for a in replay.actions if start <= _ms(a.cause_time) <= end]
        position = batch.stored[-1].id
        for tp in batch.opened:
            if tp.occurred_ms > end:
                continue
            if pending and (len(pending) >= size or tp.occurred_ms > max(replay.watermark, pending[0].occurred_ms) + DAY_MS):
                replay.batch(pending)
                pending = []
            pending.append(tp)


def _enablement(enabled: Enabled | None) -> dict[str, Any]:
    if enabled is None:
        return {"enabled": False, "start": None, "backfill": False}
    return {"enabled": True, "start": _iso(enabled.start), "backfill": enabled.backfill}


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
