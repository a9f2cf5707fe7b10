"""A process killed at a chosen point, in-process: the call it would have made next raises ``Killed``."""


class Killed(Exception):
    """The process died here (nothing after this point ran)."""


def killed(*_: object) -> None:
    """Put in place of a call (``monkeypatch.setattr(obj, "commit", killed)``): dies instead of making it."""
    raise Killed
