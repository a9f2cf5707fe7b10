"""Audience sync: a saved segment bound to a destination sends who entered it and who left it since
the binding's last sync (the first sync: everyone in it), as actions in the outbox.

An entered customer's action carries the binding's chosen profile fields (masked, as every read
without personal data is, when the binding's purpose is ``none``); a left one only the change, and
it needs no consent (telling a destination to drop someone never contacts them). Consent and
suppression are checked by the dispatcher at send time, not here. An action's cause is the sync's
place in the log (its last position, on either deployment) and the change, ``sync:POSITION:entered``,
so a sync re-run at the same position, or one that finds nobody entered or left, adds nothing, and
a customer who leaves and comes back (which takes new events) is sent again. The members
sent and the sync's position are stored with the actions in one transaction
(``Outbox.add_sync``), so a sync killed halfway sends its changes again, under the same ids.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cdp.activation.outbox import Binding
from cdp.masking import mask_profile
from cdp.platform import Platform
from cdp.segments import evaluate
from cdp.segments.consent import NO_PURPOSE
from cdp.segments.model import Segment
from projections.actions import Action, derive_action_id

PAGE = 50_000
ENTERED, LEFT = "entered", "left"


@dataclass(frozen=True)
class SyncPlan:
    binding: str
    position: int
    entered: list[str]
    left: list[str]
    actions: list[Action]


def plan(platform: Platform, binding: Binding, segment: Segment) -> SyncPlan:
    """What a sync of ``binding`` would send now."""
    warehouse = platform.warehouse
    as_of = evaluate.data_as_of(warehouse)
    position = platform.events.last_position()
    current = {row["customer_id"]: row for row in _members(platform, segment, ["customer_id", *binding.fields], as_of)}
    previous = platform.outbox.members(binding.name)
    entered, left = sorted(current.keys() - previous), sorted(previous - current.keys())
    rule = f"audience:{binding.name}"

    def action(customer_id: str, change: str, purpose: str, payload: dict[str, Any]) -> Action:
        cause = f"sync:{position}:{change}"
        return Action(derive_action_id(rule, customer_id, cause), rule, customer_id, binding.destination, binding.template, binding.channel, purpose, cause, as_of, None, payload)

    shown = mask_profile if binding.purpose == NO_PURPOSE else dict
    purpose = "" if binding.purpose == NO_PURPOSE else binding.purpose
    actions = [action(c, ENTERED, purpose, {"change": ENTERED, "segment": binding.segment, "fields": _fields(shown(current[c]), binding.fields)}) for c in entered]
    actions += [action(c, LEFT, "", {"change": LEFT, "segment": binding.segment}) for c in left]
    return SyncPlan(binding.name, position, entered, left, actions)


def apply(platform: Platform, sync: SyncPlan) -> int:
    """Keeps the plan's actions and the binding's members now; how many actions were new."""
    return platform.outbox.add_sync(sync.binding, sync.actions, sync.entered, sync.left, sync.position, datetime.now(UTC).timestamp())


def due(binding: Binding, now: float) -> bool:
    """Whether a scheduled binding's next sync is due."""
    return binding.every_minutes > 0 and (binding.last_sync_at is None or now - binding.last_sync_at >= binding.every_minutes * 60)


def _members(platform: Platform, segment: Segment, columns: list[str], as_of: datetime) -> list[dict[str, Any]]:
    rows, offset = [], 0
    while True:
        page = evaluate.members(platform.warehouse, segment, PAGE, offset, list(dict.fromkeys(columns)), as_of)
        rows.extend(page)
        offset += len(page)
        if len(page) < PAGE:
            return rows


def _fields(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[name] for name in fields}
