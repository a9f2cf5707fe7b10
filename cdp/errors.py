"""Errors a user can act on. The CLI prints their message as one line, never a traceback."""


class CdpError(Exception):
    """Base of every error whose message is meant for the user."""


class ConfigError(CdpError):
    pass


class StoreUnavailable(CdpError):
    pass


class QueryRefused(CdpError):
    pass


class WarehouseUnavailable(CdpError):
    pass


class SegmentInvalid(CdpError):
    pass


# Failures of a store rather than of the request: an HTTP door answers them as its own fault (500
# with an error id, the detail in its log), never with their text, which may name files or hosts.
# (``cdp sql`` shows a QueryRefused: there the query is the user's.)
STORE_FAULTS = (StoreUnavailable, WarehouseUnavailable, QueryRefused)
