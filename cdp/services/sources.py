"""Where events come from, for every door: sources and their write keys (add, list, rotate, revoke),
the installed connectors, and the dead letters (input kept because it could not become an event:
list, show, replay). All of it is an administrator's; every change, and every look at a letter's
payload (which may hold anything, personal data included), is audited whatever its outcome.
"""

from dataclasses import dataclass

from cdp.deadletters import StoredDeadLetter
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.refusals import refusal
from cdp.replay import ReplayReport, replay
from cdp.services import Caller, NotFound
from cdp.services.audited import audited
from cdp.sources import Source
from ingestion.sdk import SignedConnector, connectors

ADMIN = "admin"
TRACKING = "segment"  # the Segment-compatible tracking API, a connector of its own kind
MAX_NAME = 200  # of a name as the audit log keeps it (a longer one is refused anyway)


@dataclass(frozen=True)
class Connectors:
    rows: list[dict]  # name, kind, tool, formats, signed; the tracking API first
    broken: dict[str, str]  # installed connectors that failed to load: name → why


@dataclass(frozen=True)
class DeadLetters:
    letters: list[StoredDeadLetter]  # newest first
    total: int  # kept in all


class SourceService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def add(self, name: str, kind: str, connector: str = TRACKING, signing_secret: str | None = None) -> tuple[Source, str]:
        """Registers a source; returns it and its write key (shown only now)."""
        with audited(self.platform.audit, self.caller, "source.add", name[:MAX_NAME], {"kind": kind[:MAX_NAME], "connector": connector[:MAX_NAME]}):
            self.caller.require(ADMIN)
            if connector != TRACKING and connector not in connectors()[0]:
                raise refusal(CdpError, "unknown_connector", given=connector[:MAX_NAME])
            return self.platform.sources.add(name, kind, connector, signing_secret)

    def sources(self) -> list[Source]:
        """Every source (write keys are stored hashed and cannot be shown)."""
        with audited(self.platform.audit, self.caller, "source.list", "*"):
            self.caller.require(ADMIN)
            return self.platform.sources.list()

    def rotate(self, name: str) -> tuple[Source, str]:
        """A new write key for the source (shown only now); the old one stops working now."""
        with audited(self.platform.audit, self.caller, "source.rotate", name[:MAX_NAME]):
            self.caller.require(ADMIN)
            return self.platform.sources.rotate(name)

    def revoke(self, name: str) -> Source:
        """Ends the source's write key and forgets its webhook signing secret; its events stay."""
        with audited(self.platform.audit, self.caller, "source.revoke", name[:MAX_NAME]):
            self.caller.require(ADMIN)
            return self.platform.sources.revoke(name)

    def dead_letters(self, limit: int = 50, source: str | None = None) -> DeadLetters:
        """The latest ``limit`` letters (of ``source``); their reasons may quote the input, so admin only, and audited."""
        with audited(self.platform.audit, self.caller, "deadletter.list", (source or "*")[:MAX_NAME], {"limit": limit}):
            self.caller.require(ADMIN)
            if limit < 1:
                raise refusal(CdpError, "limit_at_least_1", given=limit)
            store = self.platform.dead_letters
            return DeadLetters(store.list(limit=limit, source=source), store.count())

    def dead_letter(self, letter_id: int) -> StoredDeadLetter:
        """One letter with its payload as received (audited: it may hold personal data)."""
        with audited(self.platform.audit, self.caller, "deadletter.show", str(letter_id)):
            self.caller.require(ADMIN)
            letter = self.platform.dead_letters.get(letter_id)
            if letter is None:
                raise refusal(NotFound, "no_dead_letter", id=letter_id)
            return letter

    def replay(self, ids: list[int] | None = None, source: str | None = None) -> ReplayReport:
        """Replays the letters ``ids`` (every kept one of ``source`` when None) through the path that refused them."""
        with audited(self.platform.audit, self.caller, "deadletter.replay", "*" if ids is None else ",".join(map(str, ids))[:MAX_NAME]) as detail:
            self.caller.require(ADMIN)
            report = replay(self.platform, ids, source)
            detail.update(replayed=len(report.replayed), still_failing=len(report.still_failing), stored=report.stored)
            return report


def installed_connectors() -> Connectors:
    """The connectors this installation has (no platform needed): the tool each mirrors, its source kind and formats."""
    found, broken = connectors()
    rows = [{"name": TRACKING, "kind": "website (any)", "tool": "Segment HTTP Tracking API (/v1/track, /v1/batch, ...)", "formats": "http", "signed": False}]
    rows += [{"name": c.name, "kind": c.source_kind, "tool": c.tool, "formats": ", ".join(c.formats), "signed": issubclass(c, SignedConnector)} for c in sorted(found.values(), key=lambda c: c.name)]
    return Connectors(rows, broken)
