"""The events the embedded runner could not read or project, for every door: list them (on the
scale-out deployment the relay's and the workers' too, in PostgreSQL) and replay them after a fix
of the code or the configuration. Their errors are kept sealed with the event's data key and
opened here (``cdp.privacy.sealed_errors``), so this is an administrator's, and a replay is audited.
"""

from dataclasses import asdict, dataclass
from typing import Any

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.privacy.sealed_errors import opened
from cdp.quarantine import Quarantined
from cdp.refusals import refusal
from cdp.services import Caller
from cdp.services.audited import audited

ADMIN = "admin"
SHOWN_FAILURES = 50  # of the events still failing after a replay, opened for the operator


@dataclass(frozen=True)
class Replayed:
    replayed: int  # events processed now, out of the quarantine
    failing: int  # events still failing, kept
    shown: list[Quarantined]  # the first of those, their errors opened


class QuarantineService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def entries(self) -> list[dict[str, Any]]:
        """Quarantined events in log order: position, event id, the error, when, attempts (audited: the
        errors are opened, and may quote personal data)."""
        with audited(self.platform.audit, self.caller, "quarantine.list", "*") as detail:
            self.caller.require(ADMIN)
            entries = self.platform.quarantine.list()
            if self._scaleout():  # the relay's and the workers' (their error says which)
                from cdp.scaleout.state import connect, quarantined

                db = connect(self.platform.settings.event_store.postgres)
                try:
                    entries += quarantined(db)
                finally:
                    db.close()
            detail["entries"] = len(entries)
            return [asdict(entry) for entry in opened(self.platform.events.sealer, entries)]

    def replay(self, positions: list[int] | None = None) -> Replayed:
        """Processes the quarantined events at ``positions`` (all when None) again; those that succeed leave the quarantine."""
        target = "*" if not positions else ",".join(map(str, positions))[:200]
        with audited(self.platform.audit, self.caller, "quarantine.replay", target) as detail:
            self.caller.require(ADMIN)
            if self._scaleout():
                raise refusal(CdpError, "quarantine_scaleout")
            kept = self.platform.quarantine.list(positions or None)
            unknown = sorted(set(positions or ()) - {q.position for q in kept})
            if unknown:
                raise refusal(CdpError, "not_quarantined", position=unknown[0])
            failing = self.platform.runner.retry(q.position for q in kept)
            detail.update(replayed=len(kept) - len(failing), failing=len(failing))
            return Replayed(len(kept) - len(failing), len(failing), opened(self.platform.events.sealer, failing[:SHOWN_FAILURES]))

    def _scaleout(self) -> bool:
        from cdp.scaleout.state import relay_has_run

        settings = self.platform.settings
        return settings.event_store.backend == "postgres" and relay_has_run(settings.event_store.postgres)
