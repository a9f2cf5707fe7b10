"""Triggers (docs/triggers.md): the configured rules, which are enabled and since when (and whether
backfilled), enabling (from now, or backfilled from a date) and disabling, and a dry run over a
past period as ``cdp triggers dry-run`` does: the configured rules, or rules written as TOML
(``[rules.NAME]`` tables), nothing sent. Scopes (listing needs ``triggers:read``, the rest
``admin``), validation naming the field and audit are ``TriggerService``'s."""

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from cdp.console.attempt import attempt
from cdp.console.web import Console, Visit, form
from cdp.errors import CdpError
from cdp.refusals import refusal
from cdp.services.triggers import TriggerService

NAMED = Path(..., pattern=r"^[A-Za-z0-9_.-]{1,64}$")
DRY_RUN_DAYS = 30  # the period a dry run covers unless told


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def page(visit: Visit, status: int = 200, notice: str = "", error: str = "", draft: dict[str, str] | None = None, dry_run: dict | None = None) -> Response:
        today = datetime.now(UTC).date()
        draft = draft or {"since": (today - timedelta(days=DRY_RUN_DAYS)).isoformat(), "until": today.isoformat(), "rules": ""}
        return console.page(visit, "triggers.html", status, triggers=TriggerService(visit.platform, visit.caller).list(), notice=notice, error=error, draft=draft, dry_run=dry_run)

    @routes.get("/activation/triggers")
    def triggers(visit: Visit = Depends(console.visit)) -> Response:
        return page(visit)

    @routes.post("/activation/triggers/{name}/enable")
    async def enable(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        since = (await form(visit.request)).get("backfill", "").strip()
        done, error = attempt(visit.t, lambda: TriggerService(visit.platform, visit.caller).enable(name, _day(since, "backfill") if since else None))
        if error:
            return page(visit, 422, error=error)
        return page(visit, notice=visit.t("triggers.enabled_notice", name=name, backfilled=done["backfilled"]))

    @routes.post("/activation/triggers/{name}/disable")
    def disable(visit: Visit = Depends(console.visit), name: str = NAMED) -> Response:
        _, error = attempt(visit.t, lambda: TriggerService(visit.platform, visit.caller).disable(name))
        return page(visit, 422, error=error) if error else page(visit, notice=visit.t("triggers.disabled_notice", name=name))

    @routes.post("/activation/triggers/dry-run")
    async def dry_run(visit: Visit = Depends(console.visit)) -> Response:
        sent = await form(visit.request)
        draft = {name: sent.get(name, "") for name in ("since", "until", "rules")}
        service = TriggerService(visit.platform, visit.caller)
        found, error = attempt(visit.t, lambda: service.dry_run(
            _rules(draft["rules"]) or {"rules": visit.platform.settings.triggers.model_dump(mode="json")["rules"]},
            _day(draft["since"], "since"), _day(draft["until"], "until", end=True),
        ))  # fmt: skip
        if error:
            return page(visit, 422, error=error, draft=draft)
        return page(visit, draft=draft, dry_run=found)

    return routes


def _day(text: str, field: str, end: bool = False) -> datetime:
    """A form's date (UTC): its start, or with ``end`` its end."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise refusal(CdpError, "date_expected", field=field, given=text[:30]) from None
    return datetime.combine(day, time.max if end else time.min, UTC)


def _rules(text: str) -> dict[str, Any]:
    """Rules written as TOML; empty: none given (the configured ones are tried)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise refusal(CdpError, "not_toml", field="rules", detail=str(error)) from None
