"""A worker batch is counted in relayed items and holds whole messages (cdp.scaleout.batching),
on a real faust stream: handed over before a message would take it past the bound, as soon as it
reaches it, a message holding more alone, what is left after ``within``; a message that cannot be
unpacked stops the agent's loop with its error."""

import asyncio

import orjson
import pytest

from cdp.config import Settings
from cdp.scaleout import batching, messages
from cdp.scaleout.worker import faust_app


def chunk(positions: range) -> bytes:
    [packed] = messages.chunks(0, 7, [messages.event(n, 0, f"customer-{n}", orjson.dumps({"n": n})) for n in positions])
    return packed


def taken(tmp_path, values: list[bytes], max_items: int, batches: int) -> list[list[tuple[str, int]]]:
    """The first ``batches`` batches ``take`` gives of ``values`` sent to a faust stream, as (kind, position)."""

    async def run() -> list[list[tuple[str, int]]]:
        app, _ = faust_app(Settings(data_dir=tmp_path, kafka={"topic": "t", "partitions": 1, "group": "g"}))
        app.flow_control.resume()  # as after the group's assignment
        channel = app.channel(key_type=bytes, value_type=bytes)
        stream = app.stream(channel)
        for value in values:
            await channel.send(value=value)
        got = []
        async with asyncio.timeout(30):
            async for by_partition in batching.take(stream, max_items, within=0.2):
                got.append([(m.kind, m.position) for found in by_partition.values() for m in found])
                if len(got) == batches:
                    break
        return got

    return asyncio.run(run())


def test_a_batch_holds_whole_messages_up_to_the_items_it_may_hold(tmp_path):
    values = [chunk(range(1, 4)), chunk(range(4, 7)), messages.tick(0, 6, 7), chunk(range(7, 12)), messages.tick(6, 11, 7)]
    assert taken(tmp_path, values, max_items=4, batches=4) == [
        [("event", 1), ("event", 2), ("event", 3)],  # the next chunk's three would make six
        [("event", 4), ("event", 5), ("event", 6), ("tick", 6)],  # four: handed over at once
        [("event", n) for n in range(7, 12)],  # five in one message: a batch of its own, never split
        [("tick", 11)],  # what came, after ``within``
    ]


def test_a_message_that_cannot_be_unpacked_stops_the_loop_with_its_error(tmp_path):
    with pytest.raises(orjson.JSONDecodeError):
        taken(tmp_path, [chunk(range(1, 3)), b"not a message"], max_items=100, batches=1)
