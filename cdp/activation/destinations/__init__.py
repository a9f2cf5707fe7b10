"""The destination contract: what a plugin that delivers messages provides (docs/activation.md).

A destination kind is a ``Destination`` subclass, installed under the entry point group
``cdp.destinations`` (the built-in ones in pyproject.toml: webhook, smtp, teamchat, file), one
module each. It declares its settings as a pydantic model (validated when an administrator adds a
destination, errors naming the field), whether it needs a secret, and ``send``: deliver one
``Message`` or raise ``Retryable`` (try again later: a timeout, a 5xx, a refused connection) or
``Permanent`` (it will never work: a 4xx, a template naming a missing field). The dispatcher
(``cdp.activation.dispatcher``) does the rest: consent and suppression, retries with backoff, rate
limits, the circuit breaker, dead letters and the delivery log. ``tests/test_destination_contracts.py``
holds every built-in kind to this contract.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from cdp.errors import CdpError
from schemas import describe

ENTRY_POINT_GROUP = "cdp.destinations"
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")


class Retryable(Exception):
    """The send failed this time; a later attempt may work. The message never holds a secret."""


class Permanent(Exception):
    """The send can never work as configured; the action becomes a dead letter at once."""


class DestinationSettings(BaseModel):
    """What every kind's settings share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private: bool = False  # may reach loopback and private addresses (a receiver on this host or network); link-local never
    rate_per_second: float | None = None  # overrides activation.rate_per_second for this destination


@dataclass(frozen=True)
class Message:
    """One action as a destination sends it: the action, the customer's contact details read at
    send time, and when this attempt started."""

    action_id: str
    rule: str
    customer_id: str
    template: str
    channel: str
    cause: str
    cause_time: datetime
    sent_at: datetime
    payload: dict[str, Any]
    contact: dict[str, Any] = field(default_factory=dict)  # email, phone, language (traits), from the profile

    def body(self) -> dict[str, Any]:
        """The message as JSON-able data, what webhooks and files receive and templates read."""
        return {
            "action_id": self.action_id, "rule": self.rule, "customer_id": self.customer_id, "template": self.template, "channel": self.channel,
            "cause": self.cause, "cause_time": self.cause_time.isoformat(), "sent_at": self.sent_at.isoformat(), "payload": self.payload,
        }  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """``delivered``: the destination confirmed it reached its recipient (not just accepted it)."""

    delivered: bool
    detail: str = ""


@dataclass(frozen=True)
class Context:
    """What a destination may use besides its settings: its name, its secret, the send timeout and
    where a file destination writes (``DATA_DIR/outbound``)."""

    name: str
    secret: str | None
    timeout_seconds: float
    outbound_dir: Path


class Destination:
    kind: ClassVar[str]
    Settings: ClassVar[type[DestinationSettings]] = DestinationSettings
    needs_secret: ClassVar[bool] = False
    secret_help: ClassVar[str] = ""  # what the secret is, for `cdp destinations add --help` and errors
    confirms_delivery: ClassVar[bool] = True  # whether a successful send means delivered (SMTP: only accepted)

    def __init__(self, settings: DestinationSettings, context: Context):
        self.settings = settings
        self.context = context

    @classmethod
    def check(cls, settings: DestinationSettings, secret: str | None) -> None:
        """Checks what the settings model cannot (a URL's address, the secret's shape); raises
        ``CdpError`` naming the field. Called when the destination is added."""

    def send(self, message: Message) -> Sent:
        """Sends one message; raises ``Retryable`` or ``Permanent``. Every kind implements it (the contract suite checks)."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases connections the destination keeps between sends."""


@cache
def destination_kinds() -> tuple[dict[str, type[Destination]], dict[str, str]]:
    """Every installed destination kind by name, and the entry points that failed to load with why.
    Read once per process: scanning the installed packages' entry points takes ~0.1 s."""
    found: dict[str, type[Destination]] = {}
    broken: dict[str, str] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as error:  # a third-party plugin's import error must not break the CLI
            broken[point.name] = f"{type(error).__name__}: {error}"
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, Destination)) or not _KIND.match(getattr(loaded, "kind", "")):
            broken[point.name] = f"{point.value} is not a Destination subclass with a valid kind"
            continue
        found[loaded.kind] = loaded
    return found, broken


def destination_kind(kind: str) -> type[Destination]:
    found, broken = destination_kinds()
    if kind in found:
        return found[kind]
    if kind in broken:
        raise CdpError(f"kind: destination kind {kind!r} failed to load: {broken[kind]}")
    raise CdpError(f"kind: unknown destination kind {kind[:50]!r}; installed: {', '.join(sorted(found)) or 'none'}")


def parse_settings(kind: type[Destination], given: dict[str, Any]) -> DestinationSettings:
    """The kind's settings from what an administrator gave; errors name the field (``settings.url``)."""
    try:
        return kind.Settings.model_validate(given)
    except ValidationError as error:
        raise CdpError(f"settings: {describe(error)}") from None
