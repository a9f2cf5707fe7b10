"""The contract every connector keeps, as a test suite a connector gets with one line:

    class TestMyTool(ConnectorContract, connector=MyToolConnector): pass

It runs on the connector's ``examples`` (payloads of the tool's real shape) and checks that the
connector declares itself, is registered, maps every example to valid events with
deterministic, distinct message ids, refuses wrong shapes with a reason instead of raising,
and, if the tool signs webhooks (in the body's headers or in the query), accepts its own signature
and refuses a forged one.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel

from ingestion.sdk import _NAME, Connector, QuerySignedConnector, SignedConnector, connectors, envelopes, sort_records
from ingestion.validation import validate
from schemas import SOURCE_KINDS, Envelope

RECEIVED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class _Limits:  # ``ingestion.validation.Limits``
    max_batch_bytes: int = 1_000_000
    max_event_bytes: int = 1_000_000


LIMITS = _Limits()  # of the source the contract's payloads come from
WRONG_SHAPES: tuple[Any, ...] = ({}, [], "text", 42, None, {"unexpected": {"nested": [1, 2]}}, b"{not json", b"\xff\xfe")


class ConnectorContract:
    connector: ClassVar[type[Connector]]

    def __init_subclass__(cls, connector: type[Connector] | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if connector is not None:
            cls.connector = connector

    @staticmethod
    def _body(example: Any) -> bytes:
        """An example as it arrives: bytes."""
        return example if isinstance(example, bytes) else orjson.dumps(example)

    def _events(self, example: Any) -> list[Envelope]:
        body = self._body(example)
        return [validate(e, RECEIVED_AT) for e in envelopes(self.connector(), body, "contract", LIMITS.max_batch_bytes, self.connector().sign(body, "s") if issubclass(self.connector, SignedConnector) else {})]

    def test_declares_itself(self):
        c = self.connector
        assert _NAME.match(c.name), f"name {c.name!r}: lower-case letters, digits, '-' or '_'"
        assert c.tool.strip(), "tool: name the real tool and payload it mirrors"
        assert c.source_kind in SOURCE_KINDS
        assert isinstance(c.Record, type) and issubclass(c.Record, BaseModel)
        assert set(c.formats) <= {"webhook", "jsonl", "csv"} and c.formats
        assert c.examples, "examples: give at least one payload of the tool's real shape"

    def test_is_registered_as_an_entry_point(self):
        found, broken = connectors()
        assert found.get(self.connector.name) is self.connector, f"register it in the 'cdp.connectors' entry-point group ({broken})"

    def test_every_example_maps_to_valid_events(self):
        for example in self.connector.examples:
            assert self._events(example), f"example gave no events: {example}"

    def test_message_ids_are_deterministic_and_distinct(self):
        first = [event.message_id for example in self.connector.examples for event in self._events(example)]
        again = [event.message_id for example in self.connector.examples for event in self._events(example)]
        assert first == again, "the same record must give the same message ids (re-runs are idempotent)"
        assert len(set(first)) == len(first), "two events of the examples share a message id"

    def test_wrong_shapes_are_dead_lettered_with_a_reason(self):
        result = sort_records(self.connector(), list(WRONG_SHAPES), "contract", RECEIVED_AT, "contract", LIMITS)
        assert len(result.rejected) + len(result.events) >= len(WRONG_SHAPES) - 1  # nothing raised, nothing vanished
        assert len(result.rejected) >= len(WRONG_SHAPES) - 1
        assert all(letter.reason for letter in result.letters)

    def test_signatures_are_checked(self):
        connector = self.connector()
        if not isinstance(connector, SignedConnector):
            return
        body = self._body(self.connector.examples[0])
        headers = connector.sign(body, "the-secret")
        assert connector.verify(body, headers, "the-secret")
        assert not connector.verify(body + b" ", headers, "the-secret"), "a changed body must fail"
        assert not connector.verify(body, headers, "another-secret"), "another secret must fail"
        assert not connector.verify(body, {}, "the-secret"), "a missing signature must fail"

    def test_query_signatures_are_checked(self):
        connector = self.connector()
        if not isinstance(connector, QuerySignedConnector):
            return
        now = int(time.time())
        query = connector.sign_query("the-secret", str(now), "417093")
        assert connector.verify_query(query, "the-secret")
        assert not connector.verify_query(query | {"timestamp": str(now + 1)}, "the-secret"), "a changed timestamp must fail"
        stale = connector.sign_query("the-secret", str(now - 3600), "417093")
        assert not connector.verify_query(stale, "the-secret"), "a query signed an hour ago must fail: the body is not signed, so a query seen once would post any body for ever"
        assert not connector.verify_query(query | {"nonce": "417094"}, "the-secret"), "a changed nonce must fail"
        assert not connector.verify_query(query, "another-secret"), "another secret must fail"
        assert not connector.verify_query({}, "the-secret"), "a missing signature must fail"
