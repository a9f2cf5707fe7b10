"""Customers: find one by any identifier, list them filtered by stage, tier, tag and saved segment,
and the 360° view of one (``ProfileService``) with its timeline, newest first, a page at a time.

The list is a segment definition made of the filters, sized and paged by ``SegmentService`` (the
rules of member lists hold: audited, no contact data in it, masking without ``pii:read``)."""

from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cdp.console.web import Console, Visit
from cdp.services.profiles import ProfileService
from cdp.services.segments import SegmentService

PAGE = 50
TIMELINE_PAGE = 50
LIST_COLUMNS = ["customer_id", "lifecycle_stage", "orders", "revenue", "last_seen", "channels"]  # no contact data: no purpose needed
EVERYONE = {"not": {"field": "first_seen", "op": "is_empty"}}
FILTERS = ("stage", "tier", "tag", "segment")


def filtered(stage: str, tier: str, tag: str, segment: str) -> dict[str, Any]:
    """The definition of the customers the filters keep (every customer when none is set). A saved
    segment is referred to by its name: its conditions are its writer's, which a visitor without
    pii:read may not send as their own when they test personal data (cdp.segments.personal)."""
    conditions: list[dict[str, Any]] = []
    if stage:
        conditions.append({"field": "lifecycle_stage", "op": "=", "value": stage})
    if tier:
        conditions.append({"field": "tier", "op": "=", "value": tier})
    if tag:
        conditions.append({"tag": tag})
    if segment:
        conditions.append({"segment": segment})
    return {"name": "console-customers", "where": {"all": conditions or [EVERYONE]}}


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/customers")
    def customers(
        visit: Visit = Depends(console.visit),
        stage: str = Query("", max_length=100),
        tier: str = Query("", max_length=100),
        tag: str = Query("", max_length=200),
        segment: str = Query("", max_length=100),
        page: int = Query(0, ge=0, le=100_000),
    ) -> Response:
        service = SegmentService(visit.platform, visit.caller)
        choices = {f["field"]: f["values"] for f in service.fields() if f["field"] in ("lifecycle_stage", "tier", "tags")}
        # a saved segment alone is itself: wrapped, one nested 20 deep would be refused as too deep
        subject = segment if segment and not (stage or tier or tag) else filtered(stage, tier, tag, segment)
        total = service.count(subject)["customers"]
        rows = service.members(subject, PAGE, page * PAGE, LIST_COLUMNS)
        return console.page(visit, "customers.html", rows=rows, total=total, page=page, pages=(total + PAGE - 1) // PAGE,
                            chosen={"stage": stage, "tier": tier, "tag": tag, "segment": segment}, choices=choices,
                            segments=[s["name"] for s in service.list()])

    @routes.get("/customer")
    def customer(visit: Visit = Depends(console.visit), id: str = Query(..., min_length=1, max_length=500), before: int | None = Query(None, ge=0, lt=2**63)) -> Response:
        """The 360° view; its identity explanation and timeline (reads of every event of the
        customer) follow as fragments, so the profile shows without waiting for them."""
        return console.page(visit, "customer.html", profile=ProfileService(visit.platform, visit.caller).profile(id), before=before)

    @routes.get("/customer/identity")
    def identity(visit: Visit = Depends(console.visit), id: str = Query(..., min_length=1, max_length=500)) -> Response:
        return part(visit, "customer_identity.html", id, identity=ProfileService(visit.platform, visit.caller).identity(id))

    @routes.get("/customer/timeline")
    def timeline(visit: Visit = Depends(console.visit), id: str = Query(..., min_length=1, max_length=500), before: int | None = Query(None, ge=0, lt=2**63)) -> Response:
        events = ProfileService(visit.platform, visit.caller).timeline(id, TIMELINE_PAGE, before)
        older = events[-1]["position"] if len(events) == TIMELINE_PAGE else None
        return part(visit, "customer_timeline.html", id, timeline=events, older=older, before=before)

    def part(visit: Visit, template: str, customer: str, **context: Any) -> Response:
        """A fragment for htmx; the same in a page of its own for a browser without script."""
        if visit.request.headers.get("hx-request"):
            return console.page(visit, template, customer=customer, **context)
        return console.page(visit, "customer_part.html", part=template, customer=customer, **context)

    return routes
