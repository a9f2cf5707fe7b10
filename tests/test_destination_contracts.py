"""Every built-in destination kind keeps the destination contract, against a real receiver on loopback."""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cdp.activation.destinations import parse_settings
from cdp.activation.destinations.file import JsonLinesFile
from cdp.activation.destinations.kafka import ACTION_HEADER, KafkaSink
from cdp.activation.destinations.smtp import Smtp
from cdp.activation.destinations.teamchat import TeamChat
from cdp.activation.destinations.webhook import Webhook
from cdp.errors import CdpError
from tests.destination_contract import SECRET, DestinationContract, Live
from tests.receivers import JsonReceiver, SmtpReceiver, WebhookReceiver
from tests.services.kafka import KafkaBroker, kafka_broker
from tests.services.ports import free_port


class TestWebhook(DestinationContract, destination=Webhook):
    @contextmanager
    def live(self, tmp_path):
        with WebhookReceiver(SECRET) as receiver:
            yield Live({"url": receiver.url, "allow_private": True}, SECRET, lambda: list(receiver.received.accepted))

    def down(self, tmp_path):
        return {"url": f"http://127.0.0.1:{free_port()}/hook", "allow_private": True}, SECRET, tmp_path


class TestSmtp(DestinationContract, destination=Smtp):
    template = "hello"
    TEMPLATES = {"hello": {"en": {"subject": "Hello {{ customer.name }}", "body": "n = {{ payload.n }}"}}}

    @contextmanager
    def live(self, tmp_path):
        with SmtpReceiver() as smtp:
            settings = {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "care@shop.example", "templates": self.TEMPLATES, "allow_private": True}
            yield Live(settings, None, lambda: [m["X-CDP-Action"] for m in smtp.messages])

    def down(self, tmp_path):
        settings = {"host": "127.0.0.1", "port": free_port(), "security": "none", "username": "care", "from_address": "care@shop.example", "templates": self.TEMPLATES, "allow_private": True}
        return settings, SECRET, tmp_path


class TestTeamChat(DestinationContract, destination=TeamChat):
    @contextmanager
    def live(self, tmp_path):
        with JsonReceiver() as chat:
            yield Live({"allow_private": True}, f"json://127.0.0.1:{chat.port}/", lambda: [orjson.loads(orjson.loads(b)["message"])["action_id"] for b in chat.bodies])

    def down(self, tmp_path):
        return {"allow_private": True}, f"json://127.0.0.1:{free_port()}/{SECRET}", tmp_path


class TestFile(DestinationContract, destination=JsonLinesFile):
    @contextmanager
    def live(self, tmp_path):
        path = tmp_path / "outbound" / "crm.jsonl"
        yield Live({"file_name": "crm.jsonl"}, None, lambda: [orjson.loads(line)["action_id"] for line in path.read_bytes().splitlines()])

    def down(self, tmp_path):
        blocked = tmp_path / "not-a-directory"
        blocked.write_text("a file where the directory should be")
        return {"file_name": "crm.jsonl"}, None, blocked


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    with kafka_broker() as started:
        yield started


class TestKafka(DestinationContract, destination=KafkaSink):
    @pytest.fixture(autouse=True)
    def _broker(self, broker: KafkaBroker) -> None:
        self.broker = broker

    @contextmanager
    def live(self, tmp_path):
        topic = f"cdp.actions.{uuid.uuid4().hex[:8]}"
        yield Live({"bootstrap_servers": self.broker.bootstrap_servers, "topic": topic, "allow_private": True}, None, lambda: asyncio.run(self.consumed(topic)))

    def down(self, tmp_path):
        return {"bootstrap_servers": f"127.0.0.1:{free_port()}", "topic": "cdp.actions", "allow_private": True}, None, tmp_path

    async def consumed(self, topic: str) -> list[str]:
        """The action ids on the topic (read from the start), each record's key its customer and its body the message with that id."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.broker.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()  # fetches the metadata
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records = []
            while [p for p in partitions if await consumer.position(p) < ends[p]]:
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    records.extend(batch)
        finally:
            await consumer.stop()
        ids = []
        for record in records:
            body = orjson.loads(record.value)
            assert dict(record.headers)[ACTION_HEADER].decode() == body["action_id"] and record.key.decode() == body["customer_id"]
            ids.append(body["action_id"])
        return ids

    def test_the_bootstrap_servers_are_checked_by_name(self):
        with pytest.raises(CdpError, match=r"settings: bootstrap_servers: .*'broker' is not HOST:PORT"):
            parse_settings(KafkaSink, {"bootstrap_servers": "broker", "topic": "t"})
        with pytest.raises(CdpError, match=r"settings.bootstrap_servers: .*loopback or private"):
            KafkaSink.check(parse_settings(KafkaSink, {"bootstrap_servers": "10.0.0.7:9092", "topic": "t"}), None)
        with pytest.raises(CdpError, match=r"settings.username: security sasl_ssl needs a username"):
            KafkaSink.check(parse_settings(KafkaSink, {"bootstrap_servers": "kafka.example.com:9093", "topic": "t", "security": "sasl_ssl"}), None)
