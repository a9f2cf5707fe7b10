"""Replays dead letters after a mapping or schema fix: those that fit now are stored and marked."""

from dataclasses import dataclass, field
from datetime import datetime

from cdp.platform import Platform
from ingestion.replay import replay_envelopes
from ingestion.sdk import connectors
from ingestion.validation import Invalid, validate


@dataclass
class ReplayReport:
    stored: int = 0  # events newly stored
    duplicates: int = 0  # events that were stored already
    replayed: list[int] = field(default_factory=list)  # letters whose events are now stored
    still_failing: list[tuple[int, str]] = field(default_factory=list)  # (letter id, reason now)


def replay(platform: Platform, ids: list[int] | None = None, source: str | None = None, limit: int = 10_000) -> ReplayReport:
    """Replays the given letters, or every kept one (of ``source``) when ``ids`` is None."""
    store = platform.dead_letters
    if ids is None:
        letters = list(reversed(store.list(limit=limit, source=source, kept_only=True)))
    else:
        letters = [letter for letter in map(store.get, ids) if letter is not None and letter.replayed_at is None]
    installed = connectors()[0]
    mapping = platform.settings.ingestion.track_mapping  # the current one: a letter refused before a mapping fix fits now
    report = ReplayReport()
    events = []
    for letter in letters:
        received_at = datetime.fromisoformat(letter.received_at)
        limits = platform.settings.collector.limits_for(letter.source)  # as the door that refused it
        try:
            found = [validate(e, received_at, limits.max_event_bytes) for e in replay_envelopes(letter.origin, letter.source, letter.payload, received_at, installed, limits, mapping)]
        except Invalid as error:
            report.still_failing.append((letter.id, str(error)))
            continue
        events.extend(found)
        report.replayed.append(letter.id)
    if events:
        report.stored, report.duplicates = platform.append(events)
    store.mark_replayed(report.replayed)
    return report
