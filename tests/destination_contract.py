"""The destination contract (``cdp.activation.destinations``), as a test suite each kind inherits:
``class TestWebhook(DestinationContract, destination=Webhook)`` plus how to reach a live receiver
of that kind and one that is down (``live``, ``down``). Like ``ingestion.contract`` for connectors."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cdp.activation.destinations import Context, Destination, Message, Retryable, Sent, destination_kinds, parse_settings
from cdp.activation.registry import DestinationRegistry
from cdp.activation.secrets import SecretBox
from cdp.errors import CdpError
from cdp.privacy.keystore import KeyStore

SECRET = "contract-secret-0123456789abcdef"


@dataclass
class Live:
    """A receiver of the kind: the destination's settings and secret, and the action ids it got."""

    settings: dict[str, Any]
    secret: str | None
    received: Callable[[], list[str]]


class DestinationContract:
    destination: ClassVar[type[Destination]]
    template: ClassVar[str] = ""

    def __init_subclass__(cls, destination: type[Destination] | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if destination is not None:
            cls.destination = destination

    @contextmanager
    def live(self, tmp_path: Path) -> Iterator[Live]:
        raise NotImplementedError

    def down(self, tmp_path: Path) -> tuple[dict[str, Any], str | None, Path]:
        """Settings, secret and outbound directory of a destination whose receiver cannot be reached."""
        raise NotImplementedError

    def message(self, n: int = 1) -> Message:
        now = datetime.now(UTC)
        return Message(f"{n:032x}", "trigger:contract", f"customer-{n}", self.template, "contract", f"p:{n}", now, now, {"n": n},
                       {"customer_id": f"customer-{n}", "email": f"c{n}@example.com", "language": "en", "name": "Contract"})  # fmt: skip

    def opened(self, settings: dict[str, Any], secret: str | None, outbound: Path) -> Destination:
        return self.destination(parse_settings(self.destination, settings), Context("contract", secret, 2.0, outbound))

    def test_is_installed_under_its_kind(self):
        found, broken = destination_kinds()
        assert found.get(self.destination.kind) is self.destination and self.destination.kind not in broken

    def test_its_settings_refuse_an_unknown_field_by_name(self, tmp_path):
        with self.live(tmp_path) as live:
            with pytest.raises(CdpError, match=r"settings: .*surprise"):
                parse_settings(self.destination, {**live.settings, "surprise": 1})

    def test_a_message_reaches_a_live_receiver_once(self, tmp_path):
        with self.live(tmp_path) as live:
            self.destination.check(parse_settings(self.destination, live.settings), live.secret)
            destination = self.opened(live.settings, live.secret, tmp_path / "outbound")
            try:
                sent = destination.send(self.message(7))
            finally:
                destination.close()
            assert isinstance(sent, Sent) and sent.delivered == self.destination.confirms_delivery
            assert live.received() == [self.message(7).action_id]

    def test_an_unreachable_receiver_is_retryable_and_the_error_names_no_secret(self, tmp_path):
        settings, secret, outbound = self.down(tmp_path)
        destination = self.opened(settings, secret, outbound)
        try:
            with pytest.raises(Retryable) as failure:
                destination.send(self.message())
        finally:
            destination.close()
        assert str(failure.value) and (secret is None or secret not in str(failure.value))

    def test_the_registry_keeps_the_secret_sealed_and_never_lists_it(self, tmp_path):
        with self.live(tmp_path) as live:
            keys = KeyStore(tmp_path / "keys.sqlite", b"k" * 32)
            registry = DestinationRegistry(tmp_path / "destinations.sqlite", SecretBox(keys))
            try:
                record = registry.add("contract", self.destination.kind, live.settings, live.secret)
                assert record.as_dict()["secret"] == ("set" if live.secret else "none")
                assert live.secret is None or live.secret.encode() not in (tmp_path / "destinations.sqlite").read_bytes() + (tmp_path / "destinations.sqlite-wal").read_bytes()
                assert registry.open("contract", 2.0, tmp_path / "outbound").context.secret == live.secret
                assert live.secret is None or live.secret not in repr(registry.list())
            finally:
                registry.close()
                keys.close()
