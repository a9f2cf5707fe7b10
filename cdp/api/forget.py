"""`POST /v1/customers/{identifier}/forget`: forgetting over HTTP (a FastAPI router over ``cdp.services.privacy``).

The caller passes how to reach the platform and the authentication dependency that guards it (it
returns the caller's read key; forgetting is an administrator's act). The server's own runner
processes the erasure event.
"""

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends

from cdp.api.calls import answered, caller_of
from cdp.keys import ReadKey
from cdp.platform import Platform
from cdp.services.privacy import PrivacyService


def forget_router(platform: Callable[[], Platform], auth: Callable[..., ReadKey]) -> APIRouter:
    """E.g. ``app.include_router(forget_router(lambda: platform, access.require("admin")))``."""
    router = APIRouter(prefix="/v1")
    lock = threading.Lock()

    @router.post(
        "/customers/{identifier}/forget",
        tags=["privacy"],
        summary="Forget a customer (right to erasure); returns the erasure receipts",
        openapi_extra={"x-scope": getattr(auth, "scope", "admin")},
    )
    def forget_customer(identifier: str, key: ReadKey = Depends(auth)) -> dict[str, Any]:
        with lock, answered():
            return {"receipts": PrivacyService(platform(), caller_of(key)).forget(identifier, process=False)}

    return router
