"""``kafka``: each message as JSON (``Message.body``) to a topic of an administrator's Kafka cluster,
for other systems to consume.

The record's key is the customer id (one customer's actions stay in order on one partition), its
``X-CDP-Action`` header the action id: a dispatcher killed between the broker's acknowledgement and
its record sends the record again with the same id, so consumers deduplicate by it. A send counts
once every in-sync replica has the record (``acks=all``). The bootstrap servers are checked like a
webhook's host when the destination is added and resolved again before connecting
(``cdp.activation.addresses``); the brokers the cluster then advertises are the cluster's own.

aiokafka (the ``scaleout`` extra's, with faust-streaming) runs on an event loop of the destination's own thread,
so the dispatcher's sending threads share one producer.
"""

import asyncio
import ssl
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Annotated, Literal

import orjson
from pydantic import Field, field_validator

try:
    from aiokafka import AIOKafkaProducer
    from aiokafka import errors as kafka_errors
except ModuleNotFoundError as missing:  # `cdp destinations kinds` lists the kind with this as why it failed to load
    raise ModuleNotFoundError(f"the kafka destination needs the scale-out extra ({missing.name} is not installed): pip install 'cdp[scaleout]'", name=missing.name) from None

from cdp.activation.addresses import RefusedAddress, check_url, resolve_host
from cdp.activation.destinations import Destination, DestinationSettings, Message, Permanent, Retryable, Sent
from cdp.errors import CdpError

ACTION_HEADER = "X-CDP-Action"
# what no later attempt can change: the record or the topic refused, or the credentials; a replay after a fix sends again
PERMANENT_ERRORS = (
    kafka_errors.TopicAuthorizationFailedError, kafka_errors.ClusterAuthorizationFailedError, kafka_errors.AuthenticationFailedError,
    kafka_errors.UnsupportedSaslMechanismError, kafka_errors.MessageSizeTooLargeError, kafka_errors.InvalidTopicError,
)  # fmt: skip
SASL = ("sasl_plaintext", "sasl_ssl")


class KafkaSettings(DestinationSettings):
    bootstrap_servers: Annotated[str, Field(max_length=2000, description="HOST:PORT[,HOST:PORT…] of the cluster's brokers.")]
    topic: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}$", description="The topic the messages go to (Kafka's topic name characters).")]
    security: Literal["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"] = "plaintext"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    username: Annotated[str | None, Field(max_length=200, description="The SASL user; the password is the destination's secret.")] = None

    @field_validator("bootstrap_servers")
    @classmethod
    def _servers(cls, value: str) -> str:
        servers = [server.strip() for server in value.split(",")]
        for server in servers:
            host, colon, port = server.rpartition(":")
            if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server[:60]!r} is not HOST:PORT")
        return ",".join(servers)

    def servers(self) -> list[tuple[str, int]]:
        """(host, port) of each bootstrap server, an IPv6 address without its brackets."""
        return [(host.strip("[]"), int(port)) for host, _, port in (server.rpartition(":") for server in self.bootstrap_servers.split(","))]


class KafkaSink(Destination):
    kind = "kafka"
    Settings = KafkaSettings
    secret_help = "the SASL password (security sasl_plaintext or sasl_ssl); none otherwise"

    def __init__(self, settings: KafkaSettings, context):
        super().__init__(settings, context)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._producer: AIOKafkaProducer | None = None
        self._starting = threading.Lock()  # the loop's thread starts once
        self._connecting = asyncio.Lock()  # the producer starts once, however many sends wait for it

    @classmethod
    def check(cls, settings: KafkaSettings, secret: str | None) -> None:
        for server in settings.bootstrap_servers.split(","):
            check_url(f"kafka://{server}", settings.allow_private, "settings.bootstrap_servers", schemes=("kafka",))
        if settings.security in SASL and (not settings.username or not secret):
            raise CdpError(f"settings.username: security {settings.security} needs a username and the password as the secret")

    def send(self, message: Message) -> Sent:
        value = orjson.dumps(message.body())
        headers = [(ACTION_HEADER, message.action_id.encode())]
        future = asyncio.run_coroutine_threadsafe(self._send(message.customer_id.encode(), value, headers), self._running_loop())
        try:
            partition, offset = future.result(self.context.timeout_seconds * 2)  # the producer times out first; this bounds a broker that hangs
        except RefusedAddress as refused:
            raise Permanent(str(refused)) from None
        except PERMANENT_ERRORS as error:
            raise Permanent(f"{type(error).__name__}: the cluster refused the record") from None
        except (kafka_errors.KafkaError, OSError, FutureTimeout, asyncio.TimeoutError) as error:
            future.cancel()
            raise Retryable(f"not acknowledged: {type(error).__name__}") from None
        return Sent(delivered=True, detail=f"{self.settings.topic}[{partition}]@{offset}")  # type: ignore[attr-defined]

    def close(self) -> None:
        if self._loop is None:
            return
        if self._producer is not None:
            asyncio.run_coroutine_threadsafe(self._producer.stop(), self._loop).result(self.context.timeout_seconds * 2)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()  # type: ignore[union-attr]
        self._loop.close()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._starting:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name=f"cdp-kafka-{self.context.name}", daemon=True)
                self._thread.start()
            return self._loop

    async def _send(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> tuple[int, int]:
        async with self._connecting:
            producer = self._producer or await self._start()
        sent = await producer.send_and_wait(self.settings.topic, value, key=key, headers=headers)  # type: ignore[attr-defined]
        return sent.partition, sent.offset

    async def _start(self) -> AIOKafkaProducer:
        """The producer, started on the loop's thread; a failed start is stopped and tried again by the next send."""
        settings: KafkaSettings = self.settings  # type: ignore[assignment]
        for host, port in settings.servers():
            await asyncio.to_thread(resolve_host, host, port, settings.allow_private, "settings.bootstrap_servers")
        timeout_ms = int(self.context.timeout_seconds * 1000)
        sasl = settings.security in SASL
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap_servers, client_id="cdp-activation", acks="all", request_timeout_ms=timeout_ms,
            security_protocol=settings.security.upper(), ssl_context=ssl.create_default_context() if settings.security.endswith("ssl") else None,
            sasl_mechanism=settings.sasl_mechanism, sasl_plain_username=settings.username if sasl else None,
            sasl_plain_password=self.context.secret if sasl else None,
        )  # fmt: skip
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        return producer
