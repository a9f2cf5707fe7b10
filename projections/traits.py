"""Computed traits of the unified profile: counts per source and event type, preferred channel,
last activity per channel, consent state and enterprise account link (docs/domain.md §2, §12, §13)."""

from dataclasses import dataclass
from typing import Any

from projections.profile import PASSIVE_EVENT_TYPES, ProfileRules
from schemas import PAYLOAD_BY_EVENT_TYPE, SOURCE_KINDS


@dataclass(frozen=True, slots=True)
class ComputedTraits:
    events_by_type: dict[str, int]
    events_by_source: dict[str, int]
    preferred_channel: str  # the source kind with most meaningful interactions (ties: docs/domain.md §1 order)
    last_activity_by_channel: dict[str, int]  # source kind → ms
    consent: dict[str, Any]  # purpose or channel → latest value by event time
    account_ids: list[str]


def computed_traits(profile: dict, rules: ProfileRules) -> ComputedTraits:
    meaningful: dict[str, int] = {}
    last: dict[str, int] = {}
    for event_type, times in profile["times"].items():
        kind = PAYLOAD_BY_EVENT_TYPE[event_type].source_kind
        last[kind] = max(last.get(kind, times[-1]), times[-1])
        if event_type not in PASSIVE_EVENT_TYPES:
            meaningful[kind] = meaningful.get(kind, 0) + len(times)
    preferred = max(SOURCE_KINDS, key=lambda k: (meaningful.get(k, 0), -SOURCE_KINDS.index(k))) if meaningful else ""
    prefix = rules.consent_trait_prefix
    consent = {name[len(prefix) :]: value for name, (value, _, _) in sorted(profile["traits"].items()) if name.startswith(prefix)}
    return ComputedTraits(
        events_by_type=dict(sorted(profile["by_event_type"].items())),
        events_by_source=dict(sorted(profile["by_source"].items())),
        preferred_channel=preferred,
        last_activity_by_channel={k: last[k] for k in SOURCE_KINDS if k in last},
        consent=consent,
        account_ids=profile["ids"]["account_id"],
    )
