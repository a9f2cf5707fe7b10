"""Operations for the team (an administrator's key): sources and their connectors, dead letters
with replay, quarantined events with replay, read keys and the audit log. The services check the
``admin`` scope and audit; a key without it gets their refusal as a 403 page."""

from fastapi import APIRouter, Depends
from starlette.responses import Response

from cdp.console.web import Console, Visit, form_lists
from cdp.errors import CdpError
from cdp.refusals import refusal
from cdp.services.access import AccessService
from cdp.services.quarantine import QuarantineService
from cdp.services.sources import SourceService, installed_connectors

LETTERS = 50
AUDIT_RECORDS = 200


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def operations(visit: Visit, replayed: str = "") -> Response:
        sources = SourceService(visit.platform, visit.caller)
        return console.page(visit, "operations.html", sources=sources.sources(), connectors=installed_connectors(), letters=sources.dead_letters(LETTERS),
                            quarantined=QuarantineService(visit.platform, visit.caller).entries(), replayed=replayed)

    @routes.get("/operations")
    def overview(visit: Visit = Depends(console.visit)) -> Response:
        return operations(visit)

    @routes.post("/operations/dead-letters/replay")
    async def replay_letters(visit: Visit = Depends(console.visit)) -> Response:
        ids = _numbers((await form_lists(visit.request)).get("id", []), "id")
        report = SourceService(visit.platform, visit.caller).replay(ids or None)
        return operations(visit, visit.t("operations.letters_replayed", replayed=len(report.replayed), failing=len(report.still_failing), stored=report.stored))

    @routes.post("/operations/quarantine/replay")
    async def replay_quarantine(visit: Visit = Depends(console.visit)) -> Response:
        positions = _numbers((await form_lists(visit.request)).get("position", []), "position")
        done = QuarantineService(visit.platform, visit.caller).replay(positions or None)
        return operations(visit, visit.t("operations.quarantine_replayed", replayed=done.replayed, failing=done.failing))

    @routes.get("/operations/keys")
    def keys(visit: Visit = Depends(console.visit)) -> Response:
        return console.page(visit, "keys.html", keys=AccessService(visit.platform, visit.caller).keys())

    @routes.get("/operations/audit")
    def audit(visit: Visit = Depends(console.visit)) -> Response:
        return console.page(visit, "audit.html", records=AccessService(visit.platform, visit.caller).audit_records(limit=AUDIT_RECORDS))

    return routes


def _numbers(texts: list[str], name: str) -> list[int]:
    try:
        return [int(text) for text in texts]
    except ValueError:
        raise refusal(CdpError, "whole_numbers", field=name, given=", ".join(t[:20] for t in texts)) from None
