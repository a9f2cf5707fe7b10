"""Segments: the saved ones, the builder (the count follows every change, through htmx; a
validation error is shown next to the row at fault), saving a new version, a saved segment's
definition history and members, and an export for a purpose.
Every rule (validation, scopes, consent purposes, masking, audit) is ``SegmentService``'s."""

import tempfile
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.background import BackgroundTask
from starlette.responses import RedirectResponse, Response, StreamingResponse

from cdp.console.builder import CONSENT, EVENT, PSEUDO_OPERATORS, SEGMENT, TAG, Builder, definition, from_form, normalise, place_errors
from cdp.console.customers import LIST_COLUMNS
from cdp.console.web import Console, Visit, form
from cdp.errors import CdpError, STORE_FAULTS
from cdp.services import Forbidden
from cdp.services.segments import SegmentService
from schemas.payloads import PAYLOAD_BY_EVENT_TYPE
from schemas.payloads.consent import PURPOSES

PREVIEW = 20
_SPOOLED = 16 * 1024 * 1024


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def fields(service: SegmentService) -> list[dict[str, Any]]:
        found = service.fields()
        pseudo = [{"field": TAG, "kind": TAG, "operators": list(PSEUDO_OPERATORS[TAG]), "values": next(f["values"] for f in found if f["field"] == "tags")},
                  {"field": EVENT, "kind": EVENT, "operators": list(PSEUDO_OPERATORS[EVENT]), "values": sorted(PAYLOAD_BY_EVENT_TYPE)},
                  {"field": CONSENT, "kind": CONSENT, "operators": list(PSEUDO_OPERATORS[CONSENT]), "values": list(PURPOSES)},
                  {"field": SEGMENT, "kind": SEGMENT, "operators": list(PSEUDO_OPERATORS[SEGMENT]), "values": [s["name"] for s in service.list()]}]
        return pseudo + found

    def counted(visit: Visit, service: SegmentService, builder: Builder, kinds: dict[str, str]) -> int | None:
        """The builder's size now, or None with the service's refusal placed on the rows (in the visit's language)."""
        try:
            return service.count(definition(builder, kinds))["customers"]
        except STORE_FAULTS:
            raise
        except Forbidden:
            raise
        except CdpError as refusal:
            place_errors(builder, refusal, visit.t.problem)
            return None

    def builder_page(visit: Visit, builder: Builder, partial: str | None = None, status: int = 200) -> Response:
        service = SegmentService(visit.platform, visit.caller)
        known = fields(service)
        normalise(builder, {f["field"]: f["operators"] for f in known})
        customers = counted(visit, service, builder, {f["field"]: f["kind"] for f in known})
        name = partial or "segment_builder.html"
        return console.page(visit, name, status, builder=builder, fields=known, customers=customers)

    @routes.get("/segments")
    def saved(visit: Visit = Depends(console.visit)) -> Response:
        return console.page(visit, "segments.html", segments=SegmentService(visit.platform, visit.caller).list())

    @routes.get("/segments/new")
    def new(visit: Visit = Depends(console.visit)) -> Response:
        return builder_page(visit, Builder())

    @routes.post("/segments/builder")
    async def rebuilt(visit: Visit = Depends(console.visit)) -> Response:
        """A row added, removed or changed: the builder again (only its part for htmx)."""
        builder = from_form(await form(visit.request))
        return builder_page(visit, builder, "builder_form.html" if visit.request.headers.get("hx-request") else None)

    @routes.post("/segments/count")
    async def count(visit: Visit = Depends(console.visit)) -> Response:
        """The live count, with each row's error (or none) swapped in next to it."""
        return builder_page(visit, from_form(await form(visit.request)), "count_response.html")

    @routes.post("/segments/save")
    async def save(visit: Visit = Depends(console.visit)) -> Response:
        builder = from_form(await form(visit.request))
        service = SegmentService(visit.platform, visit.caller)
        kinds = {f["field"]: f["kind"] for f in fields(service)}
        drafted = definition(builder, kinds, name=builder.name)
        try:
            exists = builder.name in {s["name"] for s in service.list()}
            (service.update(builder.name, drafted) if exists else service.create(drafted))
        except STORE_FAULTS:
            raise
        except Forbidden:
            raise
        except CdpError as refusal:
            place_errors(builder, refusal, visit.t.problem)
            return builder_page(visit, builder, status=422)
        return RedirectResponse(f"/segments/{builder.name}", status_code=303)

    @routes.get("/segments/{name}")
    def segment(name: str, visit: Visit = Depends(console.visit)) -> Response:
        service = SegmentService(visit.platform, visit.caller)
        found = service.get(name)
        return console.page(visit, "segment.html", segment=found, customers=service.count(name)["customers"],
                            members=service.members(name, PREVIEW, 0, LIST_COLUMNS), purposes=PURPOSES)

    @routes.get("/segments/{name}/export")
    def export(name: str, visit: Visit = Depends(console.visit), purpose: str = Query(..., min_length=1, max_length=100)) -> Response:
        spooled = tempfile.SpooledTemporaryFile(_SPOOLED)
        try:
            SegmentService(visit.platform, visit.caller).export(name, spooled, "csv", purpose)
        except BaseException:
            spooled.close()
            raise
        spooled.seek(0)
        chunks = iter(partial(spooled.read, 64 * 1024), b"")
        disposition = {"Content-Disposition": f'attachment; filename="{name}.csv"'}  # a saved name: lower-case letters, digits, '_' and '-'
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=disposition, background=BackgroundTask(spooled.close))

    return routes

