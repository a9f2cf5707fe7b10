"""How an HTTP route calls a service: the ``Caller`` a read key makes, and the service's refusals
as HTTP statuses (``NotFound`` 404, ``Forbidden`` 403, ``Conflict`` 409, any other ``CdpError``
422 with its message). A store's failure is the server's fault and stays a 500 with an error id
(``cdp.api.app``), its text never shown.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Request

from cdp.errors import STORE_FAULTS, CdpError
from cdp.keys import ReadKey
from cdp.services import Caller, Conflict, Forbidden, NotFound

STATUS = ((NotFound, 404), (Forbidden, 403), (Conflict, 409))


def caller_of(key: ReadKey) -> Caller:
    return Caller(key.actor, frozenset(key.scopes))


def request_caller(request: Request) -> Caller:
    """The caller of a route guarded by ``ReadAccess.require`` (which leaves the key on the request)."""
    return caller_of(request.state.read_key)


@contextmanager
def answered() -> Iterator[None]:
    """E.g. ``with answered(): return service.work(...)``."""
    try:
        yield
    except STORE_FAULTS:
        raise
    except CdpError as error:
        status = next((code for kind, code in STATUS if isinstance(error, kind)), 422)
        raise HTTPException(status_code=status, detail=str(error)) from None
