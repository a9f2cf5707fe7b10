"""Activation for every door: destinations (add, test, list, remove), audience bindings (bind, list,
sync, dry-run, unbind), the delivery log and its dead letters (replay), and the dispatcher's loop.

The rules: all of it is an administrator's (``admin``): it sends customer data out of the platform,
and destinations hold secrets, which no answer includes. Bad input names the field. Every call is
audited with its outcome. A binding names a saved segment, a configured destination, the consent
purpose its messages need (``none`` only for fields that reach nobody: contact columns then need a
purpose, as exports do, and personal fields are sent masked) and the profile fields to send. The
dry-run lists what the next sync would send and who would be skipped now, without sending; its
personal fields are masked for a caller without ``pii:read``. See docs/activation.md.
"""

import re
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cdp.activation import audiences
from cdp.activation.contact import reachable
from cdp.activation.destinations import Message, Permanent, Retryable, destination_kinds
from cdp.activation.dispatcher import Dispatcher, Report
from cdp.activation.outbox import STATUSES, Binding
from cdp.activation.registry import NAME, DestinationExists, NoSuchDestination
from cdp.customers import Customers
from cdp.errors import CdpError
from cdp.masking import mask_profile
from cdp.platform import Platform
from cdp.refusals import as_kind, refusal
from cdp.segments.consent import NO_PURPOSE, scope_for
from cdp.segments.store import NoSuchSegment
from cdp.services import Caller, Conflict, NotFound
from cdp.services.audited import audited
from projections.tables import profiles
from schemas.payloads.consent import PURPOSES

ADMIN = "admin"
MAX_LOG = 10_000
_ACTION_ID = re.compile(r"^[0-9a-f]{32}$")


class ActivationService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    # destinations
    def kinds(self) -> list[dict[str, Any]]:
        """The installed destination kinds, with what each needs."""
        found, broken = destination_kinds()
        rows = [{"kind": k, "secret": p.secret_help or ("required" if p.needs_secret else "none"), "settings": ", ".join(p.Settings.model_fields), "error": ""} for k, p in sorted(found.items())]
        return rows + [{"kind": k, "secret": "", "settings": "", "error": e} for k, e in sorted(broken.items())]

    def add_destination(self, name: str, kind: str, settings: dict[str, Any], secret: str | None) -> dict[str, Any]:
        with self._audited("destination.add", name, {"kind": kind[:50]}):
            try:
                return self.platform.destinations.add(name, kind, settings, secret).as_dict()
            except DestinationExists as taken:
                raise as_kind(Conflict, taken) from None

    def destinations(self) -> list[dict[str, Any]]:
        with self._audited("destination.list", "*"):
            return [d.as_dict() for d in self.platform.destinations.list()]

    def remove_destination(self, name: str) -> None:
        """Refused while an audience is bound to it or an enabled trigger names it (its actions would
        become dead letters): they are named, to unbind or disable first."""
        with self._audited("destination.remove", name):
            used = [b.name for b in self.platform.outbox.bindings() if b.destination == name]
            if used:
                raise refusal(Conflict, "destination_bound", name=name, audiences=used)
            enabled = self.platform.triggers.all()
            firing = [rule for rule, r in sorted(self.platform.settings.triggers.rules.items())
                      if rule in enabled and name in {r.then.destination, *(route.destination for route in r.then.by_preferred_channel.values())}]
            if firing:
                raise refusal(Conflict, "destination_in_use", name=name, triggers=firing)
            _found(lambda: self.platform.destinations.remove(name))

    def test_destination(self, name: str, to: str | None = None) -> dict[str, Any]:
        """Sends one test message (not kept in the outbox); ``to``: the email address an smtp test goes to."""
        with self._audited("destination.test", name) as detail:
            record = _found(lambda: self.platform.destinations.get(name))
            settings = self.platform.settings
            destination = _found(lambda: self.platform.destinations.open(name, settings.activation.timeout_seconds, settings.outbound_path))
            now = datetime.now(UTC)
            template = next(iter(record.settings.get("templates") or {}), "")
            message = Message(secrets.token_hex(16), "test", "test", template, "test", "test", now, now, {"test": True, **({"email": to} if to else {})}, {"customer_id": "test", "email": to, "language": None, "name": "Test"})
            try:
                sent = destination.send(message)
            except (Permanent, Retryable) as error:
                detail["result"] = "failed"
                raise refusal(CdpError, "test_failed", name=name, detail=str(error)) from None
            finally:
                destination.close()
            return {"destination": name, "action_id": message.action_id, "delivered": sent.delivered, "detail": sent.detail}

    # audience bindings
    def bind(self, name: str, segment: str, destination: str, purpose: str, fields: Sequence[str], template: str = "", channel: str = "audience", every_minutes: int = 0) -> dict[str, Any]:
        with self._audited("audience.bind", name, {"segment": segment[:200], "destination": destination[:70], "purpose": purpose[:50]}):
            if not NAME.match(name):
                raise refusal(CdpError, "bad_name", given=name[:70])
            if self.platform.outbox.binding(name) is not None:
                raise refusal(Conflict, "binding_exists", name=name)
            _found(lambda: self.platform.segments.get(segment))
            _found(lambda: self.platform.destinations.get(destination))
            if purpose != NO_PURPOSE and purpose not in PURPOSES:
                raise refusal(CdpError, "purpose_unknown", given=purpose[:100], known=list(PURPOSES), none=NO_PURPOSE)
            chosen = list(dict.fromkeys(f for f in fields if f != "customer_id"))
            unknown = [f for f in chosen if f not in profiles.TABLE.column_names]
            if unknown:
                raise refusal(CdpError, "field_unknown", given=unknown[0][:100], known=list(profiles.TABLE.column_names))
            scope_for(self.platform.settings.consent, None if purpose == NO_PURPOSE else purpose, chosen)  # contact columns need a real purpose
            if not re.match(r"^[a-z][a-z0-9_-]{0,63}$", channel):
                raise refusal(CdpError, "bad_channel", given=channel[:70])
            if not 0 <= every_minutes <= 7 * 24 * 60:
                raise refusal(CdpError, "minutes_range", given=every_minutes)
            binding = Binding(name, segment, destination, template[:200], channel, purpose, tuple(chosen), every_minutes, datetime.now(UTC).timestamp(), None, None)
            self.platform.outbox.bind(binding)
            return binding.as_dict()

    def bindings(self) -> list[dict[str, Any]]:
        with self._audited("audience.list", "*"):
            return [b.as_dict() for b in self.platform.outbox.bindings()]

    def unbind(self, name: str) -> None:
        with self._audited("audience.unbind", name):
            if not self.platform.outbox.unbind(name):
                raise refusal(NotFound, "no_binding", name=name[:70])

    def sync(self, name: str) -> dict[str, Any]:
        """Adds the actions of who entered and who left since the last sync; the dispatcher sends them."""
        with self._audited("audience.sync", name) as detail:
            plan = self._plan(name)
            added = audiences.apply(self.platform, plan)
            detail.update({"entered": len(plan.entered), "left": len(plan.left), "added": added})
            return {"audience": name, "position": plan.position, "entered": len(plan.entered), "left": len(plan.left), "actions_added": added}

    def dry_run(self, name: str) -> dict[str, Any]:
        """What the next sync would send, and to whom it would not be sent now (no consent,
        suppressed), without sending or keeping anything."""
        with self._audited("audience.dry_run", name) as detail:
            plan = self._plan(name)
            at = datetime.now(UTC)
            reach = {}
            for purpose in {a.purpose for a in plan.actions}:
                customers = [a.customer_id for a in plan.actions if a.purpose == purpose]
                reach.update({(purpose, c): r for c, r in reachable(self.platform.warehouse, self.platform.settings.consent, customers, purpose, at).items()})
            statuses = self.platform.outbox.statuses([a.action_id for a in plan.actions])
            rows = []
            for a in plan.actions:
                refusal = reach[(a.purpose, a.customer_id)].refusal
                fields = a.payload.get("fields", {})
                rows.append({
                    "customer_id": a.customer_id, "change": a.payload["change"], "destination": a.destination, "would_send": not refusal and a.action_id not in statuses,
                    "reason": refusal or ("already in the outbox" if a.action_id in statuses else ""), "action_id": a.action_id,
                    "fields": fields if self.caller.sees_personal_data else mask_profile(fields),
                })  # fmt: skip
            detail.update({"entered": len(plan.entered), "left": len(plan.left)})
            return {"audience": name, "position": plan.position, "entered": len(plan.entered), "left": len(plan.left), "actions": rows}

    def sync_due(self, on_error: Callable[[str], None]) -> int:
        """Syncs every scheduled binding whose time has come; how many actions they added."""
        added, now = 0, datetime.now(UTC).timestamp()
        for binding in self.platform.outbox.bindings():
            if audiences.due(binding, now):
                try:
                    added += self.sync(binding.name)["actions_added"]
                except CdpError as error:  # a deleted segment stops its binding, not the dispatcher
                    on_error(f"audience {binding.name}: {error}")
        return added

    # the delivery log
    def deliveries(self, customer: str | None = None, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The delivery log, newest first; ``customer``: a customer id or any identifier of theirs."""
        with self._audited("delivery.list", "*", {"status": status}):
            if status is not None and status not in STATUSES:
                raise refusal(CdpError, "status_unknown", given=status[:50], known=list(STATUSES))
            if not 1 <= limit <= MAX_LOG:
                raise refusal(CdpError, "limit_range", given=limit, most=MAX_LOG)
            customers = None
            if customer is not None:
                found = Customers(self.platform.warehouse)
                customers = sorted({c for named in found.resolve_all(customer) for c in found.merged_into(named)} | {customer})
            return self.platform.outbox.deliveries(customers, status, limit)

    def attempts(self, action_id: str) -> list[dict[str, Any]]:
        with self._audited("delivery.attempts", action_id[:64]):
            return self.platform.outbox.attempts(action_id)

    def replay(self, action_ids: Sequence[str] | None) -> int:
        """Dead letters back to pending (the ids given, or all of them); how many."""
        with self._audited("delivery.replay", ",".join(action_ids)[:200] if action_ids else "*") as detail:
            for action_id in action_ids or ():
                if not _ACTION_ID.match(action_id):
                    raise refusal(CdpError, "bad_action_id", given=action_id[:70])
            detail["replayed"] = replayed = self.platform.outbox.replay(action_ids, datetime.now(UTC).timestamp())
            return replayed

    def dispatch(self, once: bool, should_stop: Callable[[], bool] = lambda: False, on_error: Callable[[str], None] = lambda message: None) -> Report:
        """Delivers due actions and runs due syncs: until nothing is due (``once``) or until ``should_stop``."""
        with self._audited("activation.dispatch", "once" if once else "follow") as detail:
            dispatcher, total = Dispatcher(self.platform), Report()
            waiting = threading.Event()
            while not should_stop():
                self.sync_due(on_error)
                report = dispatcher.run_once()
                total.add(report)
                if report.claimed == 0:
                    if once:
                        break
                    waiting.wait(self.platform.settings.activation.poll_seconds)
            detail.update({"claimed": total.claimed, **total.outcomes})
            return total

    def _plan(self, name: str) -> audiences.SyncPlan:
        binding = self.platform.outbox.binding(name)
        if binding is None:
            raise refusal(NotFound, "no_binding", name=name[:70])
        segment = _found(lambda: self.platform.segments.get(binding.segment))
        return audiences.plan(self.platform, binding, segment)

    @contextmanager
    def _audited(self, action: str, target: str, detail: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        with audited(self.platform.audit, self.caller, action, target[:200], detail) as found:
            self.caller.require(ADMIN)
            yield found


def _found(work):
    try:
        return work()
    except (NoSuchDestination, NoSuchSegment) as missing:
        raise as_kind(NotFound, missing) from None

