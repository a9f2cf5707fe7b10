"""Audiences (an administrator's): the bindings of saved segments to destinations with their last
sync; binding one (purpose, profile fields, template, channel, schedule); its dry run (who would
enter, leave, be skipped and why), which the page shows before its "sync now"; unbinding.
Every rule (scopes, contact fields needing a purpose, masking the dry run's fields without
``pii:read``, audit) is ``ActivationService``'s; see docs/activation.md."""

from fastapi import APIRouter, Depends, Path
from starlette.responses import RedirectResponse, Response

from cdp.activation.registry import NAME
from cdp.console.attempt import attempt
from cdp.console.web import Console, Visit, form, form_lists
from cdp.errors import CdpError
from cdp.refusals import refusal
from cdp.segments.consent import NO_PURPOSE
from cdp.services.activation import ActivationService
from cdp.services.segments import SegmentService
from projections.tables import profiles
from schemas.payloads.consent import PURPOSES

NAMED = Path(..., pattern=NAME.pattern)
TEXT_FIELDS = ("name", "segment", "destination", "purpose", "template", "channel", "every_minutes")


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def page(visit: Visit, status: int = 200, notice: str = "", error: str = "", draft: dict | None = None, dry_run: dict | None = None) -> Response:
        service = ActivationService(visit.platform, visit.caller)
        bindings = service.bindings()
        return console.page(
            visit, "audiences.html", status, bindings=bindings, destinations=[d["name"] for d in service.destinations()],
            segments=[s["name"] for s in SegmentService(visit.platform, visit.caller).list()], purposes=[*PURPOSES, NO_PURPOSE],
            columns=[c for c in profiles.TABLE.column_names if c != "customer_id"], notice=notice, error=error,
            draft=draft or {"channel": "audience", "every_minutes": "0", "fields": []}, dry_run=dry_run,
        )  # fmt: skip

    @routes.get("/activation/audiences")
    def audiences(visit: Visit = Depends(console.visit)) -> Response:
        return page(visit)

    @routes.post("/activation/audiences")
    async def bind(visit: Visit = Depends(console.visit)) -> Response:
        sent = await form(visit.request)
        draft = {name: sent.get(name, "") for name in TEXT_FIELDS} | {"fields": (await form_lists(visit.request)).get("fields", [])}
        _, error = attempt(visit.t, lambda: ActivationService(visit.platform, visit.caller).bind(
            draft["name"].strip(), draft["segment"], draft["destination"], draft["purpose"], draft["fields"], draft["template"].strip(),
            draft["channel"].strip(), _minutes(draft["every_minutes"]),
        ))  # fmt: skip
        if error:
            return page(visit, 422, error=error, draft=draft)
        return RedirectResponse(f"/activation/audiences/{draft['name'].strip()}/dry-run", status_code=303)

    @routes.get("/activation/audiences/{name}/dry-run")
    def dry_run(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        found = ActivationService(visit.platform, visit.caller).dry_run(name)
        skipped = sum(1 for a in found["actions"] if not a["would_send"])
        return page(visit, dry_run=found | {"skipped": skipped, "sending": len(found["actions"]) - skipped})

    @routes.post("/activation/audiences/{name}/sync")
    def sync(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        done = ActivationService(visit.platform, visit.caller).sync(name)
        return page(visit, notice=visit.t("audiences.synced", name=name, entered=done["entered"], left=done["left"], added=done["actions_added"]))

    @routes.post("/activation/audiences/{name}/unbind")
    def unbind(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        ActivationService(visit.platform, visit.caller).unbind(name)
        return page(visit, notice=visit.t("audiences.unbound", name=name))

    return routes


def _minutes(text: str) -> int:
    try:
        return int(text or 0)
    except ValueError:
        raise refusal(CdpError, "minutes_number", given=text[:20]) from None
