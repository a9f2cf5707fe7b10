"""Tags: the rules in force with where each comes from, the versions applied, and a change (TOML, as
``[tags]`` in cdp.toml) tried as a dry run (who would gain and lose each tag, now and at each of the
last 12 month ends, with a sample) and applied, which recomputes the tag projection alone. Every rule
(validation naming the field, scopes: applying needs ``admin``, masking, audit) is ``TagService``'s."""

from fastapi import APIRouter, Depends
from starlette.responses import RedirectResponse, Response

from cdp.console.web import Console, Visit, form
from cdp.services.tags import TagService, definitions_from_text

FIELD = "definitions"  # the form's text area


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def page(visit: Visit, text: str = "", dry_run: dict | None = None) -> Response:
        service = TagService(visit.platform, visit.caller)
        return console.page(visit, "tags.html", rules=service.list(), history=service.history(), text=text, dry_run=dry_run,
                            applied=visit.request.query_params.get("applied"))

    @routes.get("/tags")
    def tags(visit: Visit = Depends(console.visit)) -> Response:
        return page(visit)

    @routes.post("/tags/dry-run")
    async def dry_run(visit: Visit = Depends(console.visit)) -> Response:
        text = (await form(visit.request)).get(FIELD, "")
        found = TagService(visit.platform, visit.caller).dry_run(definitions_from_text(text, FIELD, toml=True))
        return page(visit, text, found)

    @routes.post("/tags/apply")
    async def apply(visit: Visit = Depends(console.visit)) -> Response:
        text = (await form(visit.request)).get(FIELD, "")
        applied = TagService(visit.platform, visit.caller).apply(definitions_from_text(text, FIELD, toml=True))
        return RedirectResponse(f"/tags?applied={applied['version']}", status_code=303)

    return routes
