"""`POST /v1/customers/{identifier}/forget`: forgetting over HTTP (a FastAPI router).

The caller passes how to reach the platform and the authentication dependency that guards it
(forgetting is an administrator's act). The server's own runner processes the erasure event.
"""

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from cdp.errors import STORE_FAULTS, CdpError
from cdp.platform import Platform
from cdp.privacy.forget import AlreadyForgotten, NoSuchCustomer, forget


def forget_router(platform: Callable[[], Platform], auth: Callable[..., Any]) -> APIRouter:
    """E.g. ``app.include_router(forget_router(lambda: platform, access.require("admin")))``; ``auth`` returns the caller (with an ``actor``)."""
    router = APIRouter(prefix="/v1")
    lock = threading.Lock()

    @router.post(
        "/customers/{identifier}/forget",
        tags=["privacy"],
        summary="Forget a customer (right to erasure); returns the erasure receipts",
        openapi_extra={"x-scope": getattr(auth, "scope", "admin")},
    )
    def forget_customer(identifier: str, caller: Any = Depends(auth)) -> dict[str, Any]:
        with lock:
            try:
                return {"receipts": forget(platform(), identifier, caller.actor, process=False)}
            except NoSuchCustomer as error:
                raise HTTPException(status_code=404, detail=str(error)) from None
            except AlreadyForgotten as error:
                raise HTTPException(status_code=409, detail=str(error)) from None
            except STORE_FAULTS:
                raise
            except CdpError as error:
                raise HTTPException(status_code=422, detail=str(error)) from None

    return router
