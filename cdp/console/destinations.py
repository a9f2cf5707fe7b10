"""Destinations (an administrator's, as the HTTP API's activation routes): the configured ones with
their settings (never their secret) and send rate, the installed kinds and what each needs, adding
one (its settings written as TOML, as ``cdp destinations add --settings-file`` takes them; the
secret write-only: never put back in the form, not even after an error), a test message, removal.
Every rule (the ``admin`` scope, addresses a webhook may not reach, validation naming the field,
audit) is ``ActivationService``'s; see docs/activation.md."""

import tomllib
from typing import Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import RedirectResponse, Response

from cdp.activation.registry import NAME
from cdp.console.attempt import attempt
from cdp.console.web import Console, Visit, form
from cdp.errors import CdpError
from cdp.masking import MASK
from cdp.refusals import refusal
from cdp.services.activation import ActivationService

NAMED = Path(..., pattern=NAME.pattern)


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def page(visit: Visit, status: int = 200, notice: str = "", error: str = "", draft: dict[str, str] | None = None) -> Response:
        service = ActivationService(visit.platform, visit.caller)
        default_rate = visit.platform.settings.activation.rate_per_second
        listed = [d | {"rate": d["settings"].get("rate_per_second") or default_rate} for d in service.destinations()]
        return console.page(visit, "destinations.html", status, destinations=listed, kinds=service.kinds(), notice=notice, error=error, draft=draft or {})

    @routes.get("/activation/destinations")
    def destinations(visit: Visit = Depends(console.visit)) -> Response:
        return page(visit)

    @routes.post("/activation/destinations")
    async def add(visit: Visit = Depends(console.visit)) -> Response:
        sent = await form(visit.request)
        draft = {name: sent.get(name, "") for name in ("name", "kind", "settings")}  # never the secret
        secret = sent.get("secret", "")
        service = ActivationService(visit.platform, visit.caller)
        _, error = attempt(visit.t, lambda: service.add_destination(draft["name"].strip(), draft["kind"], _settings(draft["settings"]), secret or None))
        if error:
            return page(visit, 422, error=_without(error, secret), draft=draft)
        return RedirectResponse("/activation/destinations", status_code=303)

    @routes.post("/activation/destinations/{name}/test")
    async def test(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        to = (await form(visit.request)).get("to", "").strip() or None
        sent, error = attempt(visit.t, lambda: ActivationService(visit.platform, visit.caller).test_destination(name, to))
        if error:
            return page(visit, 422, error=error)
        return page(visit, notice=visit.t("destinations.tested", name=name, detail=sent["detail"] or ""))

    @routes.post("/activation/destinations/{name}/remove")
    def remove(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        _, error = attempt(visit.t, lambda: ActivationService(visit.platform, visit.caller).remove_destination(name))
        return page(visit, 422, error=error) if error else page(visit, notice=visit.t("destinations.removed", name=name))

    return routes


def _settings(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise refusal(CdpError, "not_toml", field="settings", detail=str(error)) from None


def _without(message: str, secret: str) -> str:
    """An error as shown: no line of the secret in it, whatever a destination's check quoted."""
    for line in secret.splitlines():
        if len(line.strip()) >= 4:
            message = message.replace(line.strip(), MASK)
    return message
