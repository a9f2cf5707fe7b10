"""Errors a user can act on. The CLI prints their message as one line, never a traceback."""


class CdpError(Exception):
    """Base of every error whose message is meant for the user."""


class ConfigError(CdpError):
    pass


class StoreUnavailable(CdpError):
    pass


class WarehouseBusy(CdpError):
    pass


class QueryRefused(CdpError):
    pass


class WarehouseUnavailable(CdpError):
    pass


class SegmentInvalid(CdpError):
    pass
