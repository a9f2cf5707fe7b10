"""Errors a user can act on. The CLI prints their message as one line, never a traceback."""

from dataclasses import dataclass
from typing import Any


class CdpError(Exception):
    """Base of every error whose message is meant for the user. One made by ``cdp.refusals.refusal``
    also carries its message as a code with parameters, for a door that words it itself."""

    code: str = ""
    params: dict[str, Any] = {}  # replaced (never changed in place) by ``refusal``
    problems: tuple["Problem", ...] = ()  # a request's problems, each by code, when it has several (a segment, tag rules)


class ConfigError(CdpError):
    pass


class StoreUnavailable(CdpError):
    pass


class QueryRefused(CdpError):
    pass


class WarehouseUnavailable(CdpError):
    pass


@dataclass(frozen=True)
class Problem:
    """One problem of a request, for a door that words it itself: the path of the field at fault
    (``where.all[2].value``), a code with its parameters (cdp/segments/problems.py) and the English text."""

    path: str
    code: str
    params: dict[str, Any]
    text: str

    def __str__(self) -> str:
        return f"{self.path}: {self.text}"


class SegmentInvalid(CdpError):
    def __init__(self, message: str, problems: tuple[Problem, ...] = ()):
        super().__init__(message)
        self.problems = problems  # empty for a problem of no field (a file that cannot be read)


# Failures of a store rather than of the request: an HTTP door answers them as its own fault (500
# with an error id, the detail in its log), never with their text, which may name files or hosts.
# (``cdp sql`` shows a QueryRefused: there the query is the user's.)
STORE_FAULTS = (StoreUnavailable, WarehouseUnavailable, QueryRefused)
