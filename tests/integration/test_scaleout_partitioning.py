"""The relay builds its record batches per partition itself (``partition_of``); the workers send
``absorb`` messages by key through the producer. Both must put a customer on the same partition,
or an absorb would reach a worker that does not hold the survivor."""

import asyncio
import uuid

from aiokafka import AIOKafkaProducer

from cdp.scaleout.relay import partition_of, wait_for_partitions
from tests.services.kafka import KafkaBroker


async def chosen_by_the_producer(bootstrap_servers: str, topic: str, keys: list[bytes]) -> tuple[tuple[int, ...], list[int]]:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await client.start()
    try:
        await wait_for_partitions(client, topic)
        await client.send_and_wait(topic, b"{}", key=b"warm-up")  # the broker creates the topic on first use
        partitions = tuple(sorted(await client.partitions_for(topic)))
        acks = await asyncio.gather(*[await client.send(topic, b"{}", key=key) for key in keys])
        return partitions, [ack.partition for ack in acks]
    finally:
        await client.stop()


def test_the_relay_places_a_key_where_the_producer_does(kafka: KafkaBroker):
    keys = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"customer-{n}")).encode() for n in range(200)]
    partitions, chosen = asyncio.run(chosen_by_the_producer(kafka.bootstrap_servers, f"placement-{uuid.uuid4().hex[:8]}", keys))
    assert len(partitions) > 1 and len(set(chosen)) == len(partitions)  # the keys spread: the comparison means something
    assert [partition_of(key, partitions) for key in keys] == chosen
