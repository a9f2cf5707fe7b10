"""A form's action tried so that the service's refusal shows on the form's own page (next to what
was typed) instead of an error page; only a missing scope stays the 403 page."""

from collections.abc import Callable
from typing import TypeVar

from cdp.console.i18n import Translator
from cdp.errors import CdpError
from cdp.services import Forbidden

T = TypeVar("T")


def attempt(t: Translator, work: Callable[[], T]) -> tuple[T | None, str]:
    """``(result, "")``, or ``(None, the service's refusal naming the field, in ``t``'s language)``."""
    try:
        return work(), ""
    except Forbidden:
        raise
    except CdpError as refused:
        return None, t.refusal(refused)
