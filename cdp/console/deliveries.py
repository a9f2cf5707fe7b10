"""The delivery log (an administrator's): every action newest first, filtered by status and by
customer (any identifier of theirs), one action's attempts, and dead letters replayed; and the
"messages" part of a customer's 360° view (the deliveries to them, for a key with ``admin``, which
also reads personal data). Scopes, validation and audit are ``ActivationService``'s
(docs/activation.md)."""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from cdp.activation.outbox import DEAD, STATUSES
from cdp.console.attempt import attempt
from cdp.console.web import Console, Visit, form_lists
from cdp.services.activation import ActivationService

LOG_PAGE = 200
CUSTOMER_MESSAGES = 50
ACTION_ID = Path(..., pattern=r"^[0-9a-f]{32}$")


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def page(visit: Visit, status: str, customer: str, notice: str = "", error: str = "", code: int = 200) -> Response:
        log = ActivationService(visit.platform, visit.caller).deliveries(customer or None, status or None, LOG_PAGE)
        return console.page(visit, "deliveries.html", code, deliveries=log, statuses=STATUSES, chosen={"status": status, "customer": customer}, notice=notice, error=error, dead=DEAD)

    @routes.get("/activation/deliveries")
    def deliveries(visit: Visit = Depends(console.visit), status: str = Query("", max_length=20), customer: str = Query("", max_length=300)) -> Response:
        return page(visit, status, customer.strip())

    @routes.get("/activation/deliveries/{action_id}")
    def attempts(visit: Visit = Depends(console.visit), action_id: str = ACTION_ID) -> Response:
        return console.page(visit, "delivery_attempts.html", action_id=action_id, attempts=ActivationService(visit.platform, visit.caller).attempts(action_id))

    @routes.post("/activation/deliveries/replay")
    async def replay(visit: Visit = Depends(console.visit)) -> Response:
        sent = await form_lists(visit.request)
        ids = sent.get("action_id", [])
        if not ids and sent.get("all") != ["dead"]:
            return page(visit, DEAD, "", error=visit.t("deliveries.choose"), code=422)
        replayed, error = attempt(visit.t, lambda: ActivationService(visit.platform, visit.caller).replay(ids or None))
        if error:
            return page(visit, DEAD, "", error=error, code=422)
        return page(visit, "", "", notice=visit.t("deliveries.replayed", count=replayed))

    @routes.get("/customer/messages")
    def customer_messages(visit: Visit = Depends(console.visit), id: str = Query(..., min_length=1, max_length=300)) -> Response:
        """The customer view's "messages" fragment (htmx), or a page of its own without script."""
        context: dict[str, Any] = {"messages": ActivationService(visit.platform, visit.caller).deliveries(id, None, CUSTOMER_MESSAGES), "customer": id}
        if visit.request.headers.get("hx-request"):
            return console.page(visit, "customer_messages.html", **context)
        return console.page(visit, "customer_part.html", part="customer_messages.html", **context)

    return routes
